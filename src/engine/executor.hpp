// Runs one validated prompt: the output nodes and their uncached ancestors, one node at a time in
// ComfyUI's order, reusing cached outputs, reporting ComfyUI's events, stopping on interrupt or
// on the first failing node.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "common/json.hpp"
#include "engine/execution_listener.hpp"
#include "engine/node_registry.hpp"
#include "engine/output_cache.hpp"
#include "engine/queue_item.hpp"

namespace comfydist::engine {

struct execution_outcome {
  bool success = false;
  json outputs = json::object();  // node id → ui dict
  json meta = json::object();
  json messages = json::array();  // [[event, data], ...] for the history status
};

class executor {
 public:
  executor(const node_registry& registry, node_environment environment, output_cache& cache,
           execution_listener& listener);
  ~executor();
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;

  // Runs on the calling thread (the execution thread).
  execution_outcome execute(const queue_item& item);

  // Asks the running prompt to stop at the next check. Safe from any thread.
  void interrupt() { interrupted_.store(true); }
  // Drops cached outputs and node instances (POST /free with free_memory). Execution thread only.
  void reset();

  const node_environment& environment() const { return environment_; }

 private:
  class run;
  node_instance& instance_for(const std::string& node_id, const node_definition& definition);

  const node_registry& registry_;
  node_environment environment_;
  output_cache& cache_;
  execution_listener& listener_;
  std::atomic<bool> interrupted_{false};
  // ComfyUI keeps node objects per (node id, class), so per-instance state such as
  // PreviewImage's random file prefix stays stable across prompts.
  std::map<std::pair<std::string, std::string>, std::unique_ptr<node_instance>> instances_;
};

}  // namespace comfydist::engine
