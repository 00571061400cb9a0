// Test helpers: loopback TCP peers that misbehave on purpose (answer garbage, close at once, or
// accept connections and never answer), for the client's error paths.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>

namespace comfydist::net::testing {

// A listening loopback socket on a free port. Without accept() the kernel still completes
// connections into the backlog, so clients connect and then hear nothing.
class silent_listener {
 public:
  silent_listener() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) {
      throw std::runtime_error("socket failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 128) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~silent_listener() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;

  std::uint16_t port() const { return port_; }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

// A port nobody listens on: bound, then released.
inline std::uint16_t unused_port() {
  return silent_listener().port();
}

// Accepts connections one at a time, reads the request header, sends `reply` verbatim and
// closes.
class scripted_server {
 public:
  explicit scripted_server(std::string reply)
      : reply_(std::move(reply)), thread_([this] { serve(); }) {}
  ~scripted_server() {
    // Wakes the blocked accept().
    ::shutdown(listener_.fd(), SHUT_RDWR);
    thread_.join();
  }
  scripted_server(const scripted_server&) = delete;
  scripted_server& operator=(const scripted_server&) = delete;

  std::uint16_t port() const { return listener_.port(); }

 private:
  void serve() {
    for (;;) {
      const int client = ::accept(listener_.fd(), nullptr, nullptr);
      if (client < 0) {
        return;
      }
      timeval tv{2, 0};
      ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const auto n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) {
          break;
        }
        request.append(buffer, static_cast<std::size_t>(n));
      }
      if (!reply_.empty()) {
        ::send(client, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      }
      ::close(client);
    }
  }

  silent_listener listener_;
  std::string reply_;
  std::thread thread_;
};

}  // namespace comfydist::net::testing
