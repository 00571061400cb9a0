// worker_probe over HTTP(S) with the asynchronous client: every probe runs concurrently with a
// 3 s deadline.
#pragma once

#include "master/worker_probe.hpp"
#include "net/async_http_client.hpp"

namespace comfydist::master {

class http_worker_probe : public worker_probe {
 public:
  explicit http_worker_probe(net::async_http_client& client) : client_(client) {}
  void probe(const worker_config& worker, bool with_system_stats,
             std::function<void(probe_result)> done) override;

 private:
  net::async_http_client& client_;
};

// A request to a worker's stock API (scheme, host and port from its config).
net::client_request worker_request(const worker_config& worker, const std::string& method,
                                   const std::string& target, std::string body = {});

}  // namespace comfydist::master
