// What each worker offers: its GET /object_info, fetched when first needed and refreshed when
// older than a few seconds, and the node_catalog (union + master nodes) built from them. The
// front door validates prompts against it; the scheduler pre-flights units with it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "engine/node_registry.hpp"
#include "master/cluster_config.hpp"
#include "master/node_catalog.hpp"
#include "net/async_http_client.hpp"

namespace comfydist::master {

class worker_catalog {
 public:
  worker_catalog(net::async_http_client& http, std::string auth_token,
                 const engine::node_registry& master_nodes, std::vector<std::string> master_only,
                 std::chrono::seconds max_age = std::chrono::seconds(30));

  // The worker's object_info: cached, or fetched now. Nothing when it cannot be had.
  std::shared_ptr<const json> info(const worker_config& worker);
  // The catalog of `workers` (their cached or fresh infos; a worker that does not answer is left
  // out unless an earlier answer is cached).
  std::shared_ptr<const node_catalog> catalog(const std::vector<worker_config>& workers);
  void forget(const std::string& worker_id);

 private:
  struct entry {
    std::shared_ptr<const json> info;
    std::chrono::steady_clock::time_point fetched;
    std::uint64_t generation = 0;
  };

  net::async_http_client& http_;
  std::string auth_token_;
  const engine::node_registry& master_nodes_;
  std::vector<std::string> master_only_;
  std::chrono::seconds max_age_;
  std::mutex mutex_;
  std::map<std::string, entry> entries_;
  std::uint64_t next_generation_ = 1;
  // The last catalog and the (worker id, generation) list it was built from.
  std::vector<std::pair<std::string, std::uint64_t>> built_from_;
  std::shared_ptr<const node_catalog> built_;
};

}  // namespace comfydist::master
