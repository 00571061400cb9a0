// Asynchronous HTTP/1.1 client: each fetch is a coroutine on its own strand, raced by a deadline
// timer; whichever finishes first answers, once.
#include "net/async_http_client.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/tls_context.hpp"

namespace comfydist::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t max_header_bytes = 64 * 1024;
// How long stop() waits for requests stuck in name resolution (which cannot be interrupted)
// before it stops the I/O threads outright.
constexpr auto stop_grace = std::chrono::seconds(2);

client_result failure(std::string kind, std::string message) {
  client_result result;
  result.error_kind = std::move(kind);
  result.error = std::move(message);
  return result;
}

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

enum class phase { resolving, connecting, handshaking, sending, receiving };

class fetch_op : public std::enable_shared_from_this<fetch_op> {
 public:
  fetch_op(asio::io_context& ioc, ssl::context& tls, client_request request,
           std::function<void(client_result)> done, std::function<void()> forget)
      : strand_(asio::make_strand(ioc)),
        tls_(tls),
        request_(std::move(request)),
        done_(std::move(done)),
        forget_(std::move(forget)),
        deadline_(strand_),
        resolver_(strand_),
        peer_(host_port(request_.host, request_.port)) {}

  void start() {
    asio::post(strand_, [self = shared_from_this()] { self->begin(); });
  }

  // From any thread.
  void cancel() {
    asio::post(strand_, [self = shared_from_this()] {
      self->finish(failure(
          "cancelled", "request to " + self->peer_ + " cancelled: the HTTP client is stopping"));
    });
  }

 private:
  void begin() {
    if (finished_) {
      return;
    }
    deadline_.expires_after(request_.timeout);
    deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) {
        self->finish(failure("timeout", self->describe_timeout()));
      }
    });
    asio::co_spawn(
        strand_, [self = shared_from_this()] { return self->run(); },
        [self = shared_from_this()](const std::exception_ptr& error) {
          if (!error) {
            return;
          }
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            self->finish(failure("http", "request to " + self->peer_ + " failed: " + e.what()));
          }
        });
  }

  std::string describe_timeout() const {
    std::string text = "timed out after " + std::to_string(request_.timeout.count()) + " ms ";
    switch (phase_) {
      case phase::resolving:
        return text + "resolving " + request_.host;
      case phase::connecting:
        return text + "connecting to " + peer_;
      case phase::handshaking:
        return text + "in the TLS handshake with " + peer_;
      case phase::sending:
        return text + "sending the request to " + peer_;
      case phase::receiving:
        break;
    }
    return text + "waiting for the response from " + peer_;
  }

  // On the strand; the first call wins, later ones (the deadline, a late I/O result) are dropped.
  void finish(client_result result) {
    if (finished_) {
      return;
    }
    finished_ = true;
    deadline_.cancel();
    resolver_.cancel();
    error_code ignored;
    if (secure_) {
      beast::get_lowest_layer(*secure_).socket().close(ignored);
    }
    if (plain_) {
      plain_->socket().close(ignored);
    }
    forget_();
    try {
      done_(std::move(result));
    } catch (const std::exception& e) {
      spdlog::error("http_client callback_failed peer={} error={}", peer_, e.what());
    }
    done_ = nullptr;
  }

  asio::awaitable<void> run() {
    std::vector<tcp::endpoint> endpoints;
    error_code ec;
    const auto address = asio::ip::make_address(request_.host, ec);
    if (!ec) {
      endpoints.emplace_back(address, request_.port);
    } else {
      auto [resolve_ec, results] =
          co_await resolver_.async_resolve(request_.host, std::to_string(request_.port), use_tuple);
      if (finished_) {
        co_return;
      }
      if (resolve_ec || results.empty()) {
        finish(failure("dns", "cannot resolve host '" + request_.host +
                                  "': " + (resolve_ec ? resolve_ec.message() : "no address")));
        co_return;
      }
      for (const auto& entry : results) {
        endpoints.push_back(entry.endpoint());
      }
    }
    if (finished_) {
      co_return;
    }
    phase_ = phase::connecting;
    if (request_.scheme == "https") {
      secure_.emplace(beast::tcp_stream(strand_), tls_);
      co_await exchange(*secure_, endpoints);
    } else {
      plain_.emplace(strand_);
      co_await exchange(*plain_, endpoints);
    }
  }

  template <class Stream>
  asio::awaitable<void> exchange(Stream& stream, const std::vector<tcp::endpoint>& endpoints) {
    auto [connect_ec, endpoint] =
        co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_tuple);
    if (finished_) {
      co_return;
    }
    if (connect_ec) {
      finish(connect_failure(connect_ec));
      co_return;
    }
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      phase_ = phase::handshaking;
      try {
        prepare_client_session(stream.native_handle(), request_.host);
      } catch (const std::exception& e) {
        finish(failure("tls", e.what()));
        co_return;
      }
      auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
      if (finished_) {
        co_return;
      }
      if (handshake_ec) {
        finish(failure("tls", describe_tls_failure(handshake_ec, stream.native_handle())));
        co_return;
      }
    }
    phase_ = phase::sending;
    auto req = make_request();
    auto [write_ec, written] = co_await http::async_write(stream, req, use_tuple);
    if (finished_) {
      co_return;
    }
    if (write_ec) {
      finish(failure("closed", "connection to " + peer_ +
                                   " broke while sending the request: " + write_ec.message()));
      co_return;
    }
    phase_ = phase::receiving;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(max_header_bytes);
    parser.body_limit(request_.max_response_bytes);
    parser.skip(req.method() == http::verb::head);
    auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (finished_) {
      co_return;
    }
    if (read_ec) {
      finish(read_failure(read_ec, parser.got_some()));
      co_return;
    }
    finish(to_result(parser.release()));
  }

  http::request<http::string_body> make_request() {
    http::request<http::string_body> req;
    const auto verb = http::string_to_verb(request_.method);
    if (verb == http::verb::unknown) {
      req.method_string(request_.method);
    } else {
      req.method(verb);
    }
    req.target(request_.target);
    req.version(11);
    const std::uint16_t default_port = request_.scheme == "https" ? 443 : 80;
    std::string host = host_port(request_.host, request_.port);
    if (request_.port == default_port) {
      host.erase(host.rfind(':'));
    }
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "comfydist");
    for (const auto& [name, value] : request_.headers) {
      req.set(name, value);
    }
    req.body() = std::move(request_.body);
    if (!req.body().empty() || verb == http::verb::post || verb == http::verb::put ||
        verb == http::verb::patch) {
      req.prepare_payload();
    }
    req.keep_alive(false);
    return req;
  }

  client_result connect_failure(const error_code& ec) const {
    if (ec == asio::error::connection_refused) {
      return failure("refused", "connection refused by " + peer_);
    }
    return failure("unreachable", "cannot connect to " + peer_ + ": " + ec.message());
  }

  client_result read_failure(const error_code& ec, bool got_some) const {
    if (ec == http::error::body_limit) {
      return failure("too_large", "response from " + peer_ + " exceeds the limit of " +
                                      std::to_string(request_.max_response_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return failure("too_large", "response header from " + peer_ + " exceeds " +
                                      std::to_string(max_header_bytes) + " bytes");
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == ssl::error::stream_truncated || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return failure("closed", got_some ? peer_ +
                                              " closed the connection in the middle of the "
                                              "response"
                                        : peer_ + " closed the connection without answering");
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      return failure("http", "malformed HTTP response from " + peer_ + ": " + ec.message());
    }
    return failure("closed", "reading the response from " + peer_ + " failed: " + ec.message());
  }

  static client_result to_result(http::response<http::string_body> res) {
    client_result out;
    out.ok = true;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const auto [it, inserted] = out.headers.try_emplace(name, std::string(field.value()));
      if (!inserted) {
        it->second += ", ";
        it->second += field.value();
      }
    }
    out.body = std::move(res.body());
    return out;
  }

  asio::strand<asio::io_context::executor_type> strand_;
  ssl::context& tls_;
  client_request request_;
  std::function<void(client_result)> done_;
  std::function<void()> forget_;
  asio::steady_timer deadline_;
  tcp::resolver resolver_;
  std::string peer_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  phase phase_ = phase::resolving;
  bool finished_ = false;
};

}  // namespace

struct async_http_client::impl {
  explicit impl(const async_http_client_options& options)
      : tls(make_client_tls_context(options.extra_ca_file)), ioc(std::max(1, options.threads)) {}

  bool on_client_thread() const { return current_client == this; }

  void run_thread() {
    current_client = this;
    for (;;) {
      try {
        ioc.run();
        break;
      } catch (const std::exception& e) {
        spdlog::error("http_client io_thread_exception error={}", e.what());
      }
    }
    std::lock_guard lock(mutex);
    --running_threads;
    cv.notify_all();
  }

  void forget(std::uint64_t id) {
    std::lock_guard lock(mutex);
    in_flight.erase(id);
  }

  static thread_local const impl* current_client;

  std::shared_ptr<ssl::context> tls;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{
      ioc.get_executor()};
  std::vector<std::thread> threads;

  std::mutex mutex;
  std::condition_variable cv;
  bool stopped = false;
  int running_threads = 0;
  std::uint64_t next_id = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<fetch_op>> in_flight;
  std::mutex join_mutex;
};

thread_local const async_http_client::impl* async_http_client::impl::current_client = nullptr;

async_http_client::async_http_client(const async_http_client_options& options)
    : impl_(std::make_unique<impl>(options)) {
  const int count = std::max(1, options.threads);
  std::lock_guard lock(impl_->mutex);
  impl_->running_threads = count;
  for (int i = 0; i < count; ++i) {
    impl_->threads.emplace_back([self = impl_.get()] { self->run_thread(); });
  }
}

async_http_client::~async_http_client() {
  stop();
}

void async_http_client::fetch(client_request request, std::function<void(client_result)> done) {
  if (request.scheme != "http" && request.scheme != "https") {
    throw std::invalid_argument("unsupported URL scheme '" + request.scheme + "'");
  }
  if (request.host.empty()) {
    throw std::invalid_argument("request without a host");
  }
  auto& self = *impl_;
  std::unique_lock lock(self.mutex);
  if (self.stopped) {
    lock.unlock();
    done(failure("cancelled", "request to " + host_port(request.host, request.port) +
                                  " not sent: the HTTP client is stopped"));
    return;
  }
  const std::uint64_t id = self.next_id++;
  auto op = std::make_shared<fetch_op>(self.ioc, *self.tls, std::move(request), std::move(done),
                                       [&self, id] { self.forget(id); });
  self.in_flight.emplace(id, op);
  lock.unlock();
  op->start();
}

client_result async_http_client::fetch_sync(client_request request) {
  if (impl_->on_client_thread()) {
    throw std::logic_error("async_http_client::fetch_sync called on the client's own thread");
  }
  std::promise<client_result> promise;
  auto result = promise.get_future();
  fetch(std::move(request), [&promise](client_result r) { promise.set_value(std::move(r)); });
  return result.get();
}

void async_http_client::stop() {
  auto& self = *impl_;
  if (self.on_client_thread()) {
    throw std::logic_error("async_http_client::stop called on the client's own thread");
  }
  std::lock_guard join_lock(self.join_mutex);
  std::vector<std::shared_ptr<fetch_op>> ops;
  {
    std::lock_guard lock(self.mutex);
    self.stopped = true;
    for (const auto& [id, weak] : self.in_flight) {
      if (auto op = weak.lock()) {
        ops.push_back(std::move(op));
      }
    }
  }
  for (const auto& op : ops) {
    op->cancel();
  }
  ops.clear();
  self.work.reset();
  {
    std::unique_lock lock(self.mutex);
    if (self.threads.empty()) {
      return;
    }
    if (!self.cv.wait_for(lock, stop_grace, [&] { return self.running_threads == 0; })) {
      spdlog::debug("http_client stop: requests still resolving after grace period");
      self.ioc.stop();
    }
  }
  for (auto& thread : self.threads) {
    thread.join();
  }
  self.threads.clear();
}

}  // namespace comfydist::net
