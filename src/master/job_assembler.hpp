// The assembler's engine part (design.md §2): once a fan-out job's units are in, the master runs
// the collectors and everything downstream of them on its own engine, each collector fed with
// the units' images in unit order. One thread, one executor, as on a worker.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/json.hpp"
#include "engine/execution_listener.hpp"
#include "engine/executor.hpp"
#include "engine/node_environment.hpp"
#include "engine/node_registry.hpp"
#include "engine/output_cache.hpp"
#include "master/tile_blend.hpp"

namespace comfydist::master {

struct assembly_request {
  std::string job_id;
  std::int64_t number = 0;
  json master_prompt;  // job_plan::master_prompt
  // The prompt the client sent: what the master's SaveImages record as the PNG's "prompt" (a
  // single ComfyUI would record that one, not the master's rewritten part). Null: master_prompt.
  json client_prompt;
  // Collector id → its images (files under temp/, relative to it), in unit order.
  std::map<std::string, std::vector<std::string>> collected;
  json extra_data = json::object();  // carries client_id, so events reach the job's client
  // A tiled job: its tiles are blended first, and the blended image is what its one collector
  // (the upscale node, a DistributedGatheredImages placeholder in master_prompt) gets.
  std::optional<tile_blend_request> tiles;
  bool answer_on_stop = false;  // run_now's: answered with an error if the master stops first
};

struct assembly_result {
  bool ok = false;
  json outputs = json::object();
  json messages = json::array();
  std::string error;
  double blend_seconds = 0;  // a tiled job's blend, PNG included
};

class job_assembler {
 public:
  // `listener` receives the executor's events (executing, progress, executed...).
  job_assembler(const engine::node_registry& registry, engine::node_environment environment,
                engine::execution_listener& listener);
  ~job_assembler();
  job_assembler(const job_assembler&) = delete;
  job_assembler& operator=(const job_assembler&) = delete;

  // Runs later on the assembler's thread; `done` is called there.
  void submit(assembly_request request, std::function<void(assembly_result)> done);
  // Runs the request after those queued before it and waits for its result (a tiled job's input
  // step, run while the job is being submitted).
  assembly_result run_now(assembly_request request);
  // Interrupts the job if it is being assembled now.
  void interrupt(const std::string& job_id);
  void stop();

 private:
  void loop();
  assembly_result run(const assembly_request& request);

  const engine::node_registry& registry_;
  engine::node_environment environment_;
  engine::output_cache cache_;
  engine::executor executor_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<assembly_request, std::function<void(assembly_result)>>> queue_;
  std::string running_;
  std::atomic<bool> interrupted_{false};  // the running job's blend stops at the next tile
  bool stopping_ = false;
  std::thread thread_;
};

// The prompt the master runs: each collector's `images` linked to a DistributedGatheredImages
// node holding the collected files (a collector that is itself such a node, as a tiled job's
// upscale is, gets the files directly).
json gathered_prompt(const assembly_request& request);

}  // namespace comfydist::master
