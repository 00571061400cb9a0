// A small blocking HTTP/1.1 and WebSocket client for loopback peers (tests, benchmarks, and the
// CLI talking to a local server). Every call has a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace comfydist::net {

struct client_response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
};

// One request on a fresh connection. Throws std::runtime_error on connection failure or timeout.
client_response http_fetch(const std::string& host, std::uint16_t port, const std::string& method,
                           const std::string& target, const std::string& body = {},
                           const std::map<std::string, std::string>& headers = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

struct websocket_message {
  bool binary = false;
  std::string data;
};

// A blocking WebSocket client.
class websocket_client {
 public:
  // Connects and upgrades at `target` (e.g. "/ws?clientId=abc"). Throws on failure.
  websocket_client(const std::string& host, std::uint16_t port, const std::string& target,
                   const std::map<std::string, std::string>& headers = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~websocket_client();
  websocket_client(const websocket_client&) = delete;
  websocket_client& operator=(const websocket_client&) = delete;

  void send_text(const std::string& text);
  // The next message, or nothing if none arrived before the timeout or the peer closed.
  std::optional<websocket_message> receive(std::chrono::milliseconds timeout);
  void close();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace comfydist::net
