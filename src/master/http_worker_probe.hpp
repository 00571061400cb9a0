// worker_probe over HTTP(S) with the asynchronous client: every probe runs concurrently with a
// 3 s deadline.
#pragma once

#include <string>

#include "master/worker_probe.hpp"
#include "net/async_http_client.hpp"

namespace comfydist::master {

class http_worker_probe : public worker_probe {
 public:
  // With a token (the master's --auth-token-file), every probe sends it: the master launches its
  // local workers with the same token file and expects remote workers to use it too.
  explicit http_worker_probe(net::async_http_client& client, std::string auth_token = {})
      : client_(client), auth_token_(std::move(auth_token)) {}
  void probe(const worker_config& worker, bool with_system_stats,
             std::function<void(probe_result)> done) override;

 private:
  net::async_http_client& client_;
  std::string auth_token_;
};

// A request to a worker's stock API (scheme, host and port from its config), with
// `Authorization: Bearer <auth_token>` when a token is given.
net::client_request worker_request(const worker_config& worker, const std::string& method,
                                   const std::string& target, std::string body = {},
                                   const std::string& auth_token = {});

}  // namespace comfydist::master
