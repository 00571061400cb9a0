// Blocking HTTP/1.1 client: one request per connection on a private io_context, under a deadline.
#include "net/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <limits>
#include <stdexcept>

namespace comfydist::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct fetch_args {
  std::string host;
  std::uint16_t port;
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout;
};

asio::awaitable<client_response> fetch(fetch_args args) {
  const auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  stream.expires_after(args.timeout);  // one deadline for the whole exchange
  tcp::resolver resolver(executor);
  const auto endpoints =
      co_await resolver.async_resolve(args.host, std::to_string(args.port), asio::use_awaitable);
  co_await stream.async_connect(endpoints, asio::use_awaitable);

  http::request<http::string_body> req;
  const auto verb = http::string_to_verb(args.method);
  if (verb == http::verb::unknown) {
    req.method_string(args.method);
  } else {
    req.method(verb);
  }
  req.target(args.target);
  req.version(11);
  req.set(http::field::host, args.host + ":" + std::to_string(args.port));
  req.set(http::field::user_agent, "comfydist-client");
  for (const auto& [name, value] : args.headers) {
    req.set(name, value);
  }
  req.body() = std::move(args.body);
  if (!req.body().empty() || verb == http::verb::post || verb == http::verb::put ||
      verb == http::verb::patch) {
    req.prepare_payload();
  }
  req.keep_alive(false);
  co_await http::async_write(stream, req, asio::use_awaitable);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.skip(verb == http::verb::head);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  auto res = parser.release();

  client_response out;
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
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return out;
}

}  // namespace

client_response http_fetch(const std::string& host, std::uint16_t port, const std::string& method,
                           const std::string& target, const std::string& body,
                           const std::map<std::string, std::string>& headers,
                           std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  auto result = asio::co_spawn(
      ioc, fetch(fetch_args{host, port, method, target, body, headers, timeout}), asio::use_future);
  ioc.run();
  try {
    return result.get();
  } catch (const std::exception& e) {
    throw std::runtime_error("http " + method + " " + host + ":" + std::to_string(port) + target +
                             " failed: " + e.what());
  }
}

}  // namespace comfydist::net
