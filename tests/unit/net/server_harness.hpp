// Test helpers: an in-process http_server on a loopback port, and a raw TCP exchange for requests
// the blocking client cannot send (malformed, pipelined, partial).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "net/http_client.hpp"
#include "net/http_server.hpp"

namespace comfydist::net::testing {

inline std::unique_ptr<http_server> start_server(const std::function<void(http_server&)>& routes,
                                                 http_server_options options = {}) {
  options.addresses = {"127.0.0.1"};
  options.port = 0;
  auto server = std::make_unique<http_server>(options);
  routes(*server);
  server->start();
  return server;
}

inline client_response get(const http_server& server, const std::string& target,
                           const std::map<std::string, std::string>& headers = {}) {
  return http_fetch("127.0.0.1", server.bound_port(), "GET", target, {}, headers,
                    std::chrono::seconds(10));
}

// A plain TCP connection to a loopback port, for requests the blocking client cannot send
// (malformed, pipelined, partial, step by step).
class raw_connection {
 public:
  explicit raw_connection(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) {
      throw std::runtime_error("socket failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~raw_connection() { ::close(fd_); }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  void send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      sent += static_cast<std::size_t>(n);
    }
  }
  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }
  int fd() const { return fd_; }

  // Reads until `marker` was received, the peer closed, or `timeout` passed without data.
  std::string receive(std::chrono::milliseconds timeout, const std::string& marker = {}) {
    timeval tv{};
    tv.tv_sec = static_cast<long>(timeout.count() / 1000);
    tv.tv_usec = static_cast<long>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string received;
    char buffer[4096];
    while (marker.empty() || received.find(marker) == std::string::npos) {
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        break;
      }
      received.append(buffer, static_cast<std::size_t>(n));
    }
    return received;
  }

 private:
  int fd_;
};

// Sends `bytes` on a fresh connection and returns everything received until the server closes
// (or `timeout` passes without data).
inline std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  raw_connection connection(port);
  connection.send(bytes);
  return connection.receive(timeout);
}

// Polls `condition` until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace comfydist::net::testing
