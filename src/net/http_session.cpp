// HTTP session role: reads requests under deadlines and size limits, screens and routes them,
// awaits the handler's reply on the connection's strand, writes it, and hands WebSocket upgrades
// to the WebSocket session.
#include "net/http_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <limits>

#include "common/api_error.hpp"
#include "net/error_response.hpp"
#include "net/responder_state.hpp"
#include "net/url_codec.hpp"
#include "net/websocket_session.hpp"

namespace comfydist::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// After a 413 we read and drop what the client still sends for this long, so that closing does not
// reset the connection before the client has read the reply.
constexpr auto linger_time = std::chrono::seconds(2);
constexpr std::size_t linger_max_bytes = std::size_t{64} << 20;
// How long a TLS connection may take to exchange close_notify before it is simply closed.
constexpr auto tls_shutdown_time = std::chrono::seconds(1);

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

unsigned valid_status(int status) {
  return status >= 100 && status <= 599 ? static_cast<unsigned>(status) : 500U;
}

bool status_without_body(unsigned status) {
  return status < 200 || status == 204 || status == 304;
}

void log_failure(const std::exception_ptr& error) {
  if (!error) {
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("http_session failed error={}", e.what());
  } catch (...) {
    spdlog::error("http_session failed error=unknown");
  }
}

// `Stream` is beast::tcp_stream or tls_stream; the plain instantiation has no TLS step at all.
template <class Stream>
class http_session : public std::enable_shared_from_this<http_session<Stream>> {
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

 public:
  http_session(Stream stream, std::shared_ptr<server_context> ctx)
      : executor_(stream.get_executor()),
        stream_(std::move(stream)),
        ctx_(std::move(ctx)),
        id_(ctx_->next_id++),
        timeout_(std::chrono::seconds(std::max(1, ctx_->options.request_timeout_seconds))) {
    beast::error_code ec;
    const auto endpoint = lowest().socket().remote_endpoint(ec);
    if (!ec) {
      remote_ = endpoint.address().to_string();
    }
  }

  void start() {
    std::weak_ptr<http_session> weak = this->weak_from_this();
    auto executor = executor_;
    const bool registered = ctx_->sessions.add(id_, [weak, executor] {
      asio::post(executor, [weak] {
        if (auto self = weak.lock()) {
          self->close();
        }
      });
    });
    if (!registered) {
      beast::error_code ec;
      lowest().socket().close(ec);
      return;
    }
    asio::co_spawn(
        executor_, [self = this->shared_from_this()] { return self->run(); }, log_failure);
  }

 private:
  enum class next_step { keep_alive, close, upgraded };

  // On the strand: the server is stopping.
  void close() {
    closing_ = true;
    if (pending_) {
      pending_->timer.cancel();
    }
    if (!handed_off_) {
      lowest().close();
    }
  }

  auto& lowest() { return beast::get_lowest_layer(stream_); }

  asio::awaitable<void> run() {
    if constexpr (is_tls) {
      lowest().expires_after(timeout_);
      auto [ec] = co_await stream_.async_handshake(ssl::stream_base::server, use_tuple);
      if (ec) {
        spdlog::debug("https handshake_failed remote={} error={}", remote_, ec.message());
        ctx_->sessions.remove(id_);
        lowest().close();
        co_return;
      }
    }
    beast::flat_buffer buffer;
    while (!closing_) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
          ctx_->options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
      parser.body_limit(ctx_->options.max_body_bytes);
      lowest().expires_after(timeout_);  // one deadline for the whole request
      auto ec = co_await read_request(buffer, parser);
      if (ec) {
        co_await on_read_error(ec, parser);
        break;
      }
      const next_step step = co_await serve(parser.release());
      if (step == next_step::upgraded) {
        co_return;
      }
      if (step == next_step::close) {
        break;
      }
    }
    ctx_->sessions.remove(id_);
    if constexpr (is_tls) {
      if (!closing_) {
        lowest().expires_after(tls_shutdown_time);
        // A peer that does not answer close_notify is closed below all the same.
        co_await stream_.async_shutdown(use_tuple);
      }
    }
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  // Reads the header, answers "Expect: 100-continue" (curl -F sends it for large uploads; a body
  // over the limit fails on its Content-Length before the client sends it), then reads the body.
  asio::awaitable<beast::error_code> read_request(beast::flat_buffer& buffer,
                                                  http::request_parser<http::string_body>& parser) {
    auto [ec, header_bytes] = co_await http::async_read_header(stream_, buffer, parser, use_tuple);
    if (ec) {
      co_return ec;
    }
    const auto& header = parser.get();
    const auto expect = header.find(http::field::expect);
    if (expect != header.end() && iequals(expect->value(), "100-continue") && !parser.is_done()) {
      http::response<http::empty_body> go_on{http::status::continue_, header.version()};
      auto [write_ec, written] = co_await http::async_write(stream_, go_on, use_tuple);
      if (write_ec) {
        co_return write_ec;
      }
    }
    if (!parser.is_done()) {
      auto [body_ec, body_bytes] = co_await http::async_read(stream_, buffer, parser, use_tuple);
      co_return body_ec;
    }
    co_return beast::error_code{};
  }

  asio::awaitable<void> on_read_error(beast::error_code ec,
                                      http::request_parser<http::string_body>& parser) {
    const bool http_error =
        ec.category() == http::make_error_code(http::error::bad_target).category();
    if (!http_error || ec == http::error::end_of_stream || ec == http::error::partial_message) {
      co_return;  // the peer went away, the deadline passed, or the server is stopping
    }
    const unsigned version = parser.is_header_done() ? parser.get().version() : 11;
    if (ec == http::error::body_limit) {
      spdlog::info("http request_rejected remote={} status=413 limit={}", remote_,
                   ctx_->options.max_body_bytes);
      const auto reply =
          error_response(413, "payload_too_large",
                         "request body exceeds the limit of " +
                             std::to_string(ctx_->options.max_body_bytes) + " bytes");
      if (co_await write(reply, false, false, version)) {
        co_await linger();
      }
    } else if (ec == http::error::header_limit) {
      co_await write(error_response(431, "request_header_fields_too_large",
                                    "request header block exceeds " +
                                        std::to_string(ctx_->options.max_header_bytes) + " bytes"),
                     false, false, version);
    } else {
      spdlog::debug("http malformed_request remote={} error={}", remote_, ec.message());
      co_await write(error_response(400, "bad_request", "malformed HTTP request: " + ec.message()),
                     false, false, version);
    }
  }

  asio::awaitable<void> linger() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().expires_after(linger_time);
    std::array<char, 16 * 1024> sink{};
    std::size_t total = 0;
    while (total < linger_max_bytes) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(sink), use_tuple);
      total += n;
      if (ec) {
        break;
      }
    }
  }

  http_request to_http_request(http::request<http::string_body>& req) const {
    http_request out;
    out.method = std::string(req.method_string());
    out.target = std::string(req.target());
    const std::string_view target(out.target);
    const auto question = target.find('?');
    out.path = percent_decode(target.substr(0, question), false);
    if (question != std::string_view::npos) {
      out.query = parse_query(target.substr(question + 1));
    }
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const auto [it, inserted] = out.headers.try_emplace(name, std::string(field.value()));
      if (!inserted) {
        it->second += ", ";
        it->second += field.value();
      }
    }
    out.body = std::move(req.body());
    out.remote_address = remote_;
    return out;
  }

  asio::awaitable<next_step> serve(http::request<http::string_body> req) {
    const bool keep_alive = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    const unsigned version = req.version();
    http_request request = to_http_request(req);
    const std::string_view target(request.target);
    const std::string raw_path(target.substr(0, target.find('?')));

    std::optional<http_response> response = ctx_->policy.screen(request);
    if (!response) {
      auto match = ctx_->routes.match(request.method, raw_path);
      switch (match.kind) {
        case router::outcome::websocket:
          if (beast::websocket::is_upgrade(req)) {
            request.path_params = std::move(match.params);
            hand_off(std::move(req), std::move(request), *match.websocket);
            co_return next_step::upgraded;
          }
          if (request.method == "GET" || head) {
            response =
                error_response(400, "bad_request", "this endpoint expects a WebSocket upgrade");
          } else {
            response =
                error_response(405, "method_not_allowed",
                               "method " + request.method + " is not allowed on " + request.path);
            response->headers.emplace_back("Allow", "GET");
          }
          break;
        case router::outcome::not_found:
          response = error_response(404, "not_found", "no route for " + request.path);
          break;
        case router::outcome::method_not_allowed: {
          response =
              error_response(405, "method_not_allowed",
                             "method " + request.method + " is not allowed on " + request.path);
          std::string allow;
          for (const auto& method : match.allowed) {
            allow += allow.empty() ? method : ", " + method;
          }
          response->headers.emplace_back("Allow", allow);
          break;
        }
        case router::outcome::handler:
          request.path_params = std::move(match.params);
          response = co_await invoke(*match.handler, std::move(request));
          break;
      }
    }
    if (!response) {
      co_return next_step::close;  // stopping while the handler worked
    }
    const bool written = co_await write(std::move(*response), keep_alive, head, version);
    co_return written&& keep_alive && !closing_ ? next_step::keep_alive : next_step::close;
  }

  void hand_off(http::request<http::string_body> req, http_request request,
                const websocket_handlers& handlers) {
    handed_off_ = true;
    ctx_->sessions.remove(id_);
    lowest().expires_never();
    start_websocket_session(std::move(stream_), std::move(req), std::move(request), handlers, ctx_);
  }

  asio::awaitable<std::optional<http_response>> invoke(const http_handler& handler,
                                                       http_request request) {
    auto slot = std::make_shared<reply_slot>(executor_);
    auto state = std::make_shared<responder_state>(slot, ctx_->lifetime);
    const std::string method = request.method;
    const std::string path = request.path;
    std::optional<http_response> failure;
    try {
      handler(std::move(request), [state](http_response r) { state->deliver(std::move(r)); });
    } catch (const api_error& e) {
      state->abandon();
      failure = error_response(e.status(), e.type(), e.what());
    } catch (const std::exception& e) {
      state->abandon();
      spdlog::error("http_handler_failed method={} path={} error={}", method, path, e.what());
      failure = error_response(500, "internal_error", e.what());
    } catch (...) {
      state->abandon();
      spdlog::error("http_handler_failed method={} path={} error=unknown", method, path);
      failure = error_response(500, "internal_error", "unknown error");
    }
    if (failure) {
      co_return failure;
    }
    state.reset();  // from here on only the handler's copies keep the responder alive
    pending_ = slot;
    while (!slot->response && !closing_) {
      co_await slot->timer.async_wait(use_tuple);
    }
    pending_.reset();
    co_return std::move(slot->response);
  }

  template <class Body>
  void fill_header(http::response<Body>& res, const http_response& response, unsigned version,
                   bool keep_alive) const {
    res.version(version);
    res.result(valid_status(response.status));
    for (const auto& [name, value] : response.headers) {
      if (iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
          iequals(name, "connection")) {
        continue;
      }
      res.insert(name, value);
    }
    if (res.find(http::field::server) == res.end()) {
      res.set(http::field::server, ctx_->options.server_name);
    }
    for (const auto& [name, value] : ctx_->policy.response_headers()) {
      res.set(name, value);
    }
    res.keep_alive(keep_alive);
  }

  template <class Message>
  asio::awaitable<bool> send(Message& message) {
    lowest().expires_after(timeout_);
    auto [ec, bytes] = co_await http::async_write(stream_, message, use_tuple);
    if (ec) {
      spdlog::debug("http write_failed remote={} error={}", remote_, ec.message());
    }
    co_return !ec;
  }

  // Writes `response`; false when the connection broke.
  asio::awaitable<bool> write(http_response response, bool keep_alive, bool head,
                              unsigned version) {
    if (status_without_body(valid_status(response.status))) {
      response.body.clear();
      response.file.reset();
    }
    if (response.file) {
      http::file_body::value_type file;
      beast::error_code ec;
      file.open(response.file->c_str(), beast::file_mode::scan, ec);
      if (!ec) {
        if (head) {
          http::response<http::empty_body> res;
          fill_header(res, response, version, keep_alive);
          res.content_length(file.size());
          co_return co_await send(res);
        }
        http::response<http::file_body> res;
        fill_header(res, response, version, keep_alive);
        res.body() = std::move(file);
        res.prepare_payload();
        co_return co_await send(res);
      }
      spdlog::debug("http file_unreadable path={} error={}", response.file->string(), ec.message());
      response = error_response(404, "not_found", "file not found");
    }
    if (head) {
      http::response<http::empty_body> res;
      fill_header(res, response, version, keep_alive);
      if (!status_without_body(res.result_int())) {
        res.content_length(response.body.size());
      }
      co_return co_await send(res);
    }
    http::response<http::string_body> res;
    fill_header(res, response, version, keep_alive);
    res.body() = std::move(response.body);
    res.prepare_payload();
    co_return co_await send(res);
  }

  asio::any_io_executor executor_;
  Stream stream_;
  std::shared_ptr<server_context> ctx_;
  std::uint64_t id_;
  std::chrono::seconds timeout_;
  std::string remote_;
  std::shared_ptr<reply_slot> pending_;
  bool closing_ = false;
  bool handed_off_ = false;
};

}  // namespace

void start_http_session(tcp::socket socket, std::shared_ptr<server_context> ctx) {
  if (ctx->tls) {
    tls_stream stream(beast::tcp_stream(std::move(socket)), *ctx->tls);
    std::make_shared<http_session<tls_stream>>(std::move(stream), std::move(ctx))->start();
  } else {
    beast::tcp_stream stream(std::move(socket));
    std::make_shared<http_session<beast::tcp_stream>>(std::move(stream), std::move(ctx))->start();
  }
}

}  // namespace comfydist::net
