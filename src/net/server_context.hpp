// State shared by the listener and every session of one http_server: options, routes, origin
// policy, the TLS context, the registry used to close live connections on stop(), and the I/O
// lifetime guard (internal to src/net).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "net/http_server.hpp"
#include "net/origin_policy.hpp"
#include "net/router.hpp"

namespace boost::asio::ssl {
class context;
}

namespace comfydist::net {

// Whether the server's io_context still exists. Objects held by other threads (responders,
// websocket_connection handles) post to the io_context only while holding `mutex` with `alive`
// set; the server clears it before destroying the io_context.
struct io_lifetime {
  std::mutex mutex;
  bool alive = true;
};

// Live connections, each with a function that closes it (posting onto its strand).
class session_registry {
 public:
  // False once close_all() ran: the caller must close itself.
  bool add(std::uint64_t id, std::function<void()> closer) {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return false;
    }
    closers_[id] = std::move(closer);
    return true;
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    closers_.erase(id);
  }
  void close_all() {
    std::map<std::uint64_t, std::function<void()>> closers;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      closers.swap(closers_);
    }
    for (auto& [id, closer] : closers) {
      closer();
    }
  }

 private:
  std::mutex mutex_;
  bool closed_ = false;
  std::map<std::uint64_t, std::function<void()>> closers_;
};

struct server_context {
  explicit server_context(http_server_options opts)
      : options(std::move(opts)), policy(options.cors_origin) {}

  http_server_options options;
  router routes;
  origin_policy policy;
  std::shared_ptr<io_lifetime> lifetime = std::make_shared<io_lifetime>();
  session_registry sessions;
  std::atomic<std::uint64_t> next_id{1};
  // Set by start() when the options name a certificate and key: connections speak TLS.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

}  // namespace comfydist::net
