// Health checks of a worker over its stock ComfyUI API: GET /prompt for liveness and queue depth,
// GET /system_stats for devices. Implementations run probes concurrently and never block the
// caller.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/json.hpp"
#include "master/cluster_config.hpp"

namespace comfydist::master {

struct probe_result {
  bool ok = false;
  std::string error;  // "connection refused", "timeout after 3000 ms", "TLS: …", "HTTP 502"
  std::int64_t queue_remaining = 0;
  std::optional<json> system_stats;  // when asked for and answered
};

class worker_probe {
 public:
  virtual ~worker_probe() = default;
  // `done` may run on another thread.
  virtual void probe(const worker_config& worker, bool with_system_stats,
                     std::function<void(probe_result)> done) = 0;
};

// Base URL of a worker: http://127.0.0.1:port for local, http://host:port for remote,
// https://host[:port] for cloud.
std::string worker_base_url(const worker_config& worker);

}  // namespace comfydist::master
