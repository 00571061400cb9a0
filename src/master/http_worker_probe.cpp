// Probing workers with GET /prompt and GET /system_stats.
#include "master/http_worker_probe.hpp"

#include <memory>

namespace comfydist::master {

net::client_request worker_request(const worker_config& worker, const std::string& method,
                                   const std::string& target, std::string body,
                                   const std::string& auth_token) {
  net::client_request request;
  request.method = method;
  request.scheme = worker.type == worker_type::cloud ? "https" : "http";
  request.host = worker.type == worker_type::local ? "127.0.0.1" : worker.host;
  request.port = static_cast<std::uint16_t>(worker.port);
  request.target = target;
  request.body = std::move(body);
  if (!request.body.empty()) {
    request.headers["Content-Type"] = "application/json";
  }
  if (!auth_token.empty()) {
    request.headers["Authorization"] = "Bearer " + auth_token;
  }
  request.timeout = std::chrono::milliseconds(3000);
  return request;
}

void http_worker_probe::probe(const worker_config& worker, bool with_system_stats,
                              std::function<void(probe_result)> done) {
  auto finish = std::make_shared<std::function<void(probe_result)>>(std::move(done));
  client_.fetch(worker_request(worker, "GET", "/prompt", {}, auth_token_),
                [this, worker, with_system_stats, finish](const net::client_result& answer) {
                  probe_result result;
                  if (!answer.ok) {
                    result.error = answer.error;
                    (*finish)(result);
                    return;
                  }
                  if (answer.status != 200) {
                    result.error = "HTTP " + std::to_string(answer.status) + " from GET /prompt";
                    (*finish)(result);
                    return;
                  }
                  try {
                    const json body = json::parse(answer.body);
                    result.queue_remaining =
                        body.at("exec_info").at("queue_remaining").get<std::int64_t>();
                  } catch (const std::exception&) {
                    result.error = "GET /prompt did not answer like ComfyUI (no queue_remaining)";
                    (*finish)(result);
                    return;
                  }
                  result.ok = true;
                  if (!with_system_stats) {
                    (*finish)(result);
                    return;
                  }
                  client_.fetch(worker_request(worker, "GET", "/system_stats", {}, auth_token_),
                                [result, finish](const net::client_result& stats) mutable {
                                  if (stats.ok && stats.status == 200) {
                                    try {
                                      result.system_stats = json::parse(stats.body);
                                    } catch (const std::exception&) {
                                      // devices stay unknown; liveness is what counts
                                    }
                                  }
                                  (*finish)(result);
                                });
                });
}

}  // namespace comfydist::master
