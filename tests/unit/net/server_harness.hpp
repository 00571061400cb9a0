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

// Sends `bytes` on a fresh connection and returns everything received until the server closes
// (or `timeout` passes without data).
inline std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                bool half_close = false) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error("socket failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect failed");
  }
  timeval tv{};
  tv.tv_sec = static_cast<long>(timeout.count() / 1000);
  tv.tv_usec = static_cast<long>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  if (half_close) {
    ::shutdown(fd, SHUT_WR);
  }
  std::string received;
  char buffer[4096];
  for (;;) {
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;
    }
    received.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return received;
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
