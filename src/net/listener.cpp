// Listener role: binds one address, accepts connections and starts an HTTP session on a fresh
// strand for each.
#include "net/listener.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

#include "net/http_session.hpp"

namespace comfydist::net {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string describe(const asio::ip::address& address, std::uint16_t port) {
  return address.is_v6() ? "[" + address.to_string() + "]:" + std::to_string(port)
                         : address.to_string() + ":" + std::to_string(port);
}

class tcp_listener final : public listener, public std::enable_shared_from_this<tcp_listener> {
 public:
  tcp_listener(asio::io_context& ioc, std::shared_ptr<server_context> ctx)
      : ioc_(ioc), acceptor_(asio::make_strand(ioc)), ctx_(std::move(ctx)) {}

  void bind(const std::string& address, std::uint16_t port) {
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (ec) {
      // A host name (e.g. "localhost"): listen on its first address.
      tcp::resolver resolver(ioc_);
      const auto results = resolver.resolve(address, std::to_string(port), ec);
      if (ec || results.empty()) {
        throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) + ": " +
                                 (ec ? ec.message() : "no address"));
      }
      ip = results.begin()->endpoint().address();
    }
    const tcp::endpoint endpoint(ip, port);
    const auto fail = [&](const boost::system::error_code& error) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      throw std::runtime_error("cannot listen on " + describe(ip, port) + ": " + error.message());
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) {
      fail(ec);
    }
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ip.is_v6()) {
      // "::" and "0.0.0.0" may both be listed on the same port.
      acceptor_.set_option(asio::ip::v6_only(true), ec);
    }
    acceptor_.bind(endpoint, ec);
    if (ec) {
      fail(ec);
    }
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      fail(ec);
    }
    port_ = acceptor_.local_endpoint().port();
    spdlog::info("{} listening address={}", ctx_->tls ? "https" : "http", describe(ip, port_));
  }

  std::uint16_t port() const override { return port_; }

  void start() override {
    asio::co_spawn(
        acceptor_.get_executor(), [self = shared_from_this()] { return self->accept_loop(); },
        [](const std::exception_ptr& error) {
          if (error) {
            spdlog::error("listener accept loop failed");
          }
        });
  }

  void close() override {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor_.close(ignored);
    });
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      asio::any_io_executor connection_strand = asio::make_strand(ioc_);
      auto [ec, socket] = co_await acceptor_.async_accept(connection_strand, use_tuple);
      if (!acceptor_.is_open() || ec == asio::error::operation_aborted) {
        co_return;
      }
      if (ec) {
        // Typically out of file descriptors: back off instead of spinning.
        spdlog::warn("http accept_failed port={} error={}", port_, ec.message());
        asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(100));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      start_http_session(std::move(socket), ctx_);
    }
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  std::shared_ptr<server_context> ctx_;
  std::uint16_t port_ = 0;
};

}  // namespace

std::shared_ptr<listener> listener::open(asio::io_context& ioc, const std::string& address,
                                         std::uint16_t port, std::shared_ptr<server_context> ctx) {
  auto result = std::make_shared<tcp_listener>(ioc, std::move(ctx));
  result->bind(address, port);
  return result;
}

}  // namespace comfydist::net
