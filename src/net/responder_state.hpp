// The reply path of an HTTP handler: the slot a session awaits and the state behind an
// http_responder, which replies once from any thread (internal to src/net; includes Asio).
#pragma once

#include <spdlog/spdlog.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <optional>

#include "net/error_response.hpp"
#include "net/server_context.hpp"

namespace comfydist::net {

// Where a handler's reply lands: set on the strand, then `timer` is cancelled to wake the session.
struct reply_slot {
  explicit reply_slot(const boost::asio::any_io_executor& executor)
      : timer(executor, std::chrono::steady_clock::time_point::max()) {}
  boost::asio::steady_timer timer;
  std::optional<http_response> response;
};

// The state behind an http_responder (and all its copies): replies once, from any thread; replies
// 500 if every copy is destroyed unanswered.
class responder_state {
 public:
  responder_state(std::weak_ptr<reply_slot> slot, std::shared_ptr<io_lifetime> lifetime)
      : slot_(std::move(slot)), lifetime_(std::move(lifetime)) {}
  responder_state(const responder_state&) = delete;
  responder_state& operator=(const responder_state&) = delete;
  ~responder_state() {
    if (!done_.exchange(true)) {
      spdlog::error("http_handler dropped its responder without replying");
      post(error_response(500, "internal_error", "the request handler did not reply"));
    }
  }

  void deliver(http_response response) {
    if (done_.exchange(true)) {
      spdlog::warn("http_handler called its responder more than once; the extra reply is dropped");
      return;
    }
    post(std::move(response));
  }
  // The session answered itself (the handler threw); later calls are ignored.
  void abandon() { done_ = true; }

 private:
  void post(http_response response) {
    std::lock_guard lock(lifetime_->mutex);
    if (!lifetime_->alive) {
      return;
    }
    auto slot = slot_.lock();
    if (!slot) {
      return;
    }
    const auto executor = slot->timer.get_executor();
    boost::asio::post(executor, [slot = std::move(slot), response = std::move(response)]() mutable {
      slot->response = std::move(response);
      slot->timer.cancel();
    });
  }

  std::weak_ptr<reply_slot> slot_;
  std::shared_ptr<io_lifetime> lifetime_;
  std::atomic<bool> done_{false};
};

}  // namespace comfydist::net
