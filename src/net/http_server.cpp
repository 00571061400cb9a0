// The http_server facade: owns the io_context, its threads and the listeners; start/stop/wait and
// the signal hook.
#include "net/http_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "net/listener.hpp"
#include "net/server_context.hpp"
#include "net/tls_context.hpp"

namespace comfydist::net {

namespace asio = boost::asio;

namespace {
// How long stop() lets connections wind down before the io_context is stopped outright.
constexpr auto stop_grace = std::chrono::seconds(2);
}  // namespace

struct http_server::impl {
  explicit impl(http_server_options options)
      : ctx(std::make_shared<server_context>(std::move(options))),
        ioc(std::max(1, ctx->options.io_threads)) {}

  bool on_io_thread() const { return current_server == this; }
  // Stops accepting, closes every connection and lets the I/O threads run out of work.
  void request_stop();

  void join_threads() {
    std::lock_guard join_lock(join_mutex);
    {
      std::unique_lock lock(mutex);
      if (threads.empty()) {
        return;
      }
      if (!cv.wait_for(lock, stop_grace, [&] { return running_threads == 0; })) {
        spdlog::debug("http_server stop: connections still busy after grace period; stopping I/O");
        ioc.stop();
      }
    }
    for (auto& thread : threads) {
      thread.join();
    }
    std::lock_guard lock(mutex);
    threads.clear();
  }

  void run_thread() {
    current_server = this;
    for (;;) {
      try {
        ioc.run();
        break;
      } catch (const std::exception& e) {
        spdlog::error("http_server io_thread_exception error={}", e.what());
      }
    }
    std::lock_guard lock(mutex);
    --running_threads;
    cv.notify_all();
  }

  static thread_local const impl* current_server;

  std::shared_ptr<server_context> ctx;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::shared_ptr<listener>> listeners;
  std::shared_ptr<asio::signal_set> signals;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;

  std::mutex mutex;
  std::condition_variable cv;
  bool started = false;
  bool stop_requested = false;
  int running_threads = 0;
  std::mutex join_mutex;
};

thread_local const http_server::impl* http_server::impl::current_server = nullptr;

http_server::http_server(http_server_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

http_server::~http_server() {
  stop();
  impl_->join_threads();
  {
    std::lock_guard lock(impl_->ctx->lifetime->mutex);
    impl_->ctx->lifetime->alive = false;
  }
  impl_->signals.reset();
  impl_->listeners.clear();
}

void http_server::add_route(const std::string& method, const std::string& pattern,
                            http_handler handler) {
  impl_->ctx->routes.add(method, pattern, std::move(handler));
}

void http_server::add_websocket(const std::string& pattern, websocket_handlers handlers) {
  impl_->ctx->routes.add_websocket(pattern, std::move(handlers));
}

void http_server::start() {
  auto& self = *impl_;
  {
    std::lock_guard lock(self.mutex);
    if (self.started) {
      throw std::logic_error("http_server::start called twice");
    }
    self.started = true;
  }
  const auto& options = self.ctx->options;
  if (options.tls_certfile.empty() != options.tls_keyfile.empty()) {
    throw std::runtime_error(options.tls_certfile.empty()
                                 ? "a TLS key file was given without a certificate file"
                                 : "a TLS certificate file was given without a key file");
  }
  if (!options.tls_certfile.empty()) {
    self.ctx->tls = make_server_tls_context(options.tls_certfile, options.tls_keyfile);
  }
  std::uint16_t port = options.port;
  try {
    for (const auto& address : options.addresses) {
      self.listeners.push_back(listener::open(self.ioc, address, port, self.ctx));
      // With port 0 every address shares the port the first one got.
      port = self.listeners.back()->port();
    }
  } catch (...) {
    self.listeners.clear();
    throw;
  }
  if (self.listeners.empty()) {
    throw std::runtime_error("http_server has no address to listen on");
  }
  self.port = port;
  self.work.emplace(self.ioc.get_executor());
  for (const auto& l : self.listeners) {
    l->start();
  }
  const int count = std::max(1, options.io_threads);
  std::lock_guard lock(self.mutex);
  self.running_threads = count;
  for (int i = 0; i < count; ++i) {
    self.threads.emplace_back([&self] { self.run_thread(); });
  }
}

std::uint16_t http_server::bound_port() const {
  return impl_->port;
}

void http_server::wait() {
  {
    std::unique_lock lock(impl_->mutex);
    impl_->cv.wait(lock, [&] { return impl_->stop_requested; });
  }
  if (!impl_->on_io_thread()) {
    impl_->join_threads();
  }
}

void http_server::stop() {
  auto& self = *impl_;
  bool first = false;
  {
    std::lock_guard lock(self.mutex);
    first = !self.stop_requested;
    self.stop_requested = true;
  }
  if (first) {
    self.request_stop();
  }
  // From an I/O thread (a handler or the signal hook) joining would deadlock; wait() or the
  // destructor joins instead.
  if (!self.on_io_thread()) {
    self.join_threads();
  }
}

void http_server::impl::request_stop() {
  for (const auto& l : listeners) {
    l->close();
  }
  if (signals) {
    asio::post(ioc, [signals = signals] {
      boost::system::error_code ignored;
      signals->cancel(ignored);
    });
  }
  ctx->sessions.close_all();
  work.reset();
  cv.notify_all();
}

void http_server::post(std::function<void()> fn) {
  asio::post(impl_->ioc, [fn = std::move(fn)] {
    try {
      fn();
    } catch (const std::exception& e) {
      spdlog::error("http_server posted_task_failed error={}", e.what());
    }
  });
}

void stop_on_signals(http_server& server) {
  auto& self = *server.impl_;
  self.signals = std::make_shared<asio::signal_set>(self.ioc, SIGINT, SIGTERM);
  self.signals->async_wait([&server](const boost::system::error_code& ec, int signal) {
    if (!ec) {
      spdlog::info("http_server signal={} stopping", signal);
      server.stop();
    }
  });
}

}  // namespace comfydist::net
