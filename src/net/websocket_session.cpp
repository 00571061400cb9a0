// WebSocket session role (ws:// and wss://): completes the upgrade, delivers text messages to the
// route's handlers, and owns the outgoing queue with at most one write in flight.
#include "net/websocket_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>

namespace comfydist::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// A client that stops reading must not grow server memory without bound.
constexpr std::size_t max_queued_messages = 1024;
constexpr std::size_t max_queued_bytes = std::size_t{64} << 20;
// ComfyUI clients send only small JSON messages.
constexpr std::size_t max_incoming_message = std::size_t{1} << 20;

void log_failure(const std::exception_ptr& error) {
  if (!error) {
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("websocket_session failed error={}", e.what());
  } catch (...) {
    spdlog::error("websocket_session failed error=unknown");
  }
}

template <class NextLayer>
class websocket_session;

// What route code holds: forwards to the session while it and the io_context exist.
template <class NextLayer>
class connection_handle final : public websocket_connection {
 public:
  connection_handle(std::weak_ptr<websocket_session<NextLayer>> session,
                    std::shared_ptr<io_lifetime> lifetime, std::uint64_t id)
      : session_(std::move(session)), lifetime_(std::move(lifetime)), id_(id) {}

  void send_text(std::string message) override;
  void send_binary(std::string bytes) override;
  void close() override;
  std::uint64_t id() const override { return id_; }

 private:
  template <class Fn>
  void on_strand(Fn fn);

  std::weak_ptr<websocket_session<NextLayer>> session_;
  std::shared_ptr<io_lifetime> lifetime_;
  std::uint64_t id_;
};

// `NextLayer` is beast::tcp_stream (ws://) or an SSL stream over it (wss://).
template <class NextLayer>
class websocket_session : public std::enable_shared_from_this<websocket_session<NextLayer>> {
 public:
  websocket_session(NextLayer stream, const websocket_handlers& handlers,
                    std::shared_ptr<server_context> ctx)
      : executor_(stream.get_executor()),
        ws_(std::move(stream)),
        handlers_(&handlers),
        ctx_(std::move(ctx)),
        id_(ctx_->next_id++) {}

  void start(http::request<http::string_body> upgrade, http_request request) {
    std::weak_ptr<websocket_session> weak = this->weak_from_this();
    auto executor = executor_;
    const bool registered = ctx_->sessions.add(id_, [weak, executor] {
      asio::post(executor, [weak] {
        if (auto self = weak.lock()) {
          self->abort();
        }
      });
    });
    if (!registered) {
      abort();
      return;
    }
    asio::co_spawn(
        executor_,
        [self = this->shared_from_this(), upgrade = std::move(upgrade),
         request = std::move(request)]() mutable {
          return self->run(std::move(upgrade), std::move(request));
        },
        log_failure);
  }

  const asio::any_io_executor& executor() const { return executor_; }

  // On the strand.
  void enqueue(std::string data, bool binary) {
    if (!open_ || finished_ || closing_) {
      return;
    }
    if (queue_.size() >= max_queued_messages || queued_bytes_ + data.size() > max_queued_bytes) {
      spdlog::warn("websocket id={} outgoing_queue_full messages={} bytes={}; closing", id_,
                   queue_.size(), queued_bytes_);
      abort();
      return;
    }
    queued_bytes_ += data.size();
    queue_.push_back(outgoing{std::move(data), binary});
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(
          executor_, [self = this->shared_from_this()] { return self->write_loop(); }, log_failure);
    }
  }

  // On the strand: a close handshake; the read loop ends when the peer answers.
  void close_gracefully() {
    if (!open_ || finished_ || closing_) {
      return;
    }
    closing_ = true;
    asio::co_spawn(
        executor_,
        [self = this->shared_from_this()]() -> asio::awaitable<void> {
          auto [ec] = co_await self->ws_.async_close(websocket::close_code::normal, use_tuple);
          if (ec) {
            self->abort();
          }
        },
        log_failure);
  }

  // On the strand: drop the connection now (server stopping, queue over its cap).
  void abort() {
    closing_ = true;
    beast::get_lowest_layer(ws_).close();
  }

 private:
  struct outgoing {
    std::string data;
    bool binary = false;
  };

  asio::awaitable<void> run(http::request<http::string_body> upgrade, http_request request) {
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    // Browsers stay connected for hours without sending anything; pings keep them alive.
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [server_name = ctx_->options.server_name,
         extra = ctx_->policy.response_headers()](websocket::response_type& res) {
          res.set(http::field::server, server_name);
          for (const auto& [name, value] : extra) {
            res.set(name, value);
          }
        }));
    ws_.read_message_max(max_incoming_message);

    auto [accept_ec] = co_await ws_.async_accept(upgrade, use_tuple);
    if (accept_ec || closing_) {
      spdlog::debug("websocket id={} upgrade_failed error={}", id_, accept_ec.message());
      ctx_->sessions.remove(id_);
      abort();
      co_return;
    }
    open_ = true;
    handle_ =
        std::make_shared<connection_handle<NextLayer>>(this->weak_from_this(), ctx_->lifetime, id_);
    spdlog::debug("websocket id={} opened path={} remote={}", id_, request.path,
                  request.remote_address);
    if (handlers_->on_open) {
      try {
        handlers_->on_open(request, handle_);
      } catch (const std::exception& e) {
        spdlog::error("websocket id={} on_open_failed error={}", id_, e.what());
      }
    }

    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, bytes] = co_await ws_.async_read(buffer, use_tuple);
      if (ec) {
        spdlog::debug("websocket id={} read_ended reason={}", id_, ec.message());
        break;
      }
      if (ws_.got_text() && handlers_->on_text) {
        const std::string text = beast::buffers_to_string(buffer.data());
        try {
          handlers_->on_text(handle_, text);
        } catch (const std::exception& e) {
          spdlog::error("websocket id={} on_text_failed error={}", id_, e.what());
        }
      }
      buffer.consume(buffer.size());
    }

    finished_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    ctx_->sessions.remove(id_);
    abort();
    if (handlers_->on_close) {
      try {
        handlers_->on_close(handle_);
      } catch (const std::exception& e) {
        spdlog::error("websocket id={} on_close_failed error={}", id_, e.what());
      }
    }
  }

  asio::awaitable<void> write_loop() {
    while (!queue_.empty() && !finished_) {
      // Owned by this frame while the write is in flight, so the queue may be cleared meanwhile.
      outgoing message = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= message.data.size();
      ws_.binary(message.binary);
      auto [ec, bytes] = co_await ws_.async_write(asio::buffer(message.data), use_tuple);
      if (ec) {
        spdlog::debug("websocket id={} write_failed error={}", id_, ec.message());
        abort();
        break;
      }
    }
    writing_ = false;
  }

  asio::any_io_executor executor_;
  websocket::stream<NextLayer> ws_;
  const websocket_handlers* handlers_;
  std::shared_ptr<server_context> ctx_;
  std::uint64_t id_;
  std::shared_ptr<connection_handle<NextLayer>> handle_;
  std::deque<outgoing> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool open_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

template <class NextLayer>
template <class Fn>
void connection_handle<NextLayer>::on_strand(Fn fn) {
  std::lock_guard lock(lifetime_->mutex);
  if (!lifetime_->alive) {
    return;
  }
  auto session = session_.lock();
  if (!session) {
    return;
  }
  const auto executor = session->executor();
  asio::post(executor,
             [session = std::move(session), fn = std::move(fn)]() mutable { fn(*session); });
}

template <class NextLayer>
void connection_handle<NextLayer>::send_text(std::string message) {
  on_strand([message = std::move(message)](websocket_session<NextLayer>& session) mutable {
    session.enqueue(std::move(message), false);
  });
}

template <class NextLayer>
void connection_handle<NextLayer>::send_binary(std::string bytes) {
  on_strand([bytes = std::move(bytes)](websocket_session<NextLayer>& session) mutable {
    session.enqueue(std::move(bytes), true);
  });
}

template <class NextLayer>
void connection_handle<NextLayer>::close() {
  on_strand([](websocket_session<NextLayer>& session) { session.close_gracefully(); });
}

template <class NextLayer>
void start_session(NextLayer stream, http::request<http::string_body> upgrade, http_request request,
                   const websocket_handlers& handlers, std::shared_ptr<server_context> ctx) {
  auto session =
      std::make_shared<websocket_session<NextLayer>>(std::move(stream), handlers, std::move(ctx));
  session->start(std::move(upgrade), std::move(request));
}

}  // namespace

void start_websocket_session(beast::tcp_stream stream, http::request<http::string_body> upgrade,
                             http_request request, const websocket_handlers& handlers,
                             std::shared_ptr<server_context> ctx) {
  start_session(std::move(stream), std::move(upgrade), std::move(request), handlers,
                std::move(ctx));
}

void start_websocket_session(beast::ssl_stream<beast::tcp_stream> stream,
                             http::request<http::string_body> upgrade, http_request request,
                             const websocket_handlers& handlers,
                             std::shared_ptr<server_context> ctx) {
  start_session(std::move(stream), std::move(upgrade), std::move(request), handlers,
                std::move(ctx));
}

}  // namespace comfydist::net
