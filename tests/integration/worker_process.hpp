// Test harness: starts the real comfydist binary as a worker on a free loopback port with its own
// data dir, waits until it is ready, and talks HTTP/WebSocket to it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "net/http_client.hpp"

namespace comfydist::testing {

class worker_process {
 public:
  explicit worker_process(std::vector<std::string> extra_args = {});
  ~worker_process();
  worker_process(const worker_process&) = delete;
  worker_process& operator=(const worker_process&) = delete;

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  bool alive();
  pid_t pid() const { return pid_; }
  // SIGKILL and reap (a worker that dies without a word).
  void kill9();

  net::client_response get(const std::string& target) const;
  net::client_response post(const std::string& target, const std::string& body,
                            const std::map<std::string, std::string>& headers = {}) const;
  net::client_response post_json(const std::string& target, const json& body) const;
  net::client_response request(const std::string& method, const std::string& target,
                               const std::string& body = {},
                               const std::map<std::string, std::string>& headers = {}) const;

 private:
  std::filesystem::path data_dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string log_path_;
};

// A WebSocket client that collects JSON messages until a predicate holds.
class ws_listener {
 public:
  ws_listener(std::uint16_t port, const std::string& client_id);
  // Messages (as parsed JSON) until one of type `type` whose data matches `prompt_id` (if given)
  // arrives; throws after `timeout`.
  std::vector<json> until(const std::string& type, const std::optional<std::string>& prompt_id,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Messages until executing {node: null} for `prompt_id` (the end of a prompt).
  std::vector<json> until_done(const std::string& prompt_id,
                               std::chrono::milliseconds timeout = std::chrono::seconds(60));
  net::websocket_client& client() { return client_; }

 private:
  net::websocket_client client_;
};

// A PNG of the given size and colour, encoded by the image layer.
std::string make_png(int width, int height, int channels, std::uint8_t value);

// The types of messages, in order.
std::vector<std::string> types_of(const std::vector<json>& messages);

}  // namespace comfydist::testing
