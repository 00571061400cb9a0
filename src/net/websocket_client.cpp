// Blocking WebSocket client: a private io_context on a background thread reads into a queue that
// receive() waits on; sends go through an outgoing queue with one write in flight.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "net/http_client.hpp"

namespace comfydist::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto close_wait = std::chrono::seconds(2);

}  // namespace

struct websocket_client::impl {
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  websocket::stream<beast::tcp_stream> ws{ioc};
  std::thread thread;

  // Touched only on the I/O thread.
  std::deque<std::string> outbox;
  bool writing = false;

  std::mutex mutex;
  std::condition_variable cv;
  std::deque<websocket_message> inbox;
  bool ended = false;  // the read loop finished
  bool closed_by_us = false;

  asio::awaitable<void> connect(std::string host, std::uint16_t port, std::string target,
                                std::map<std::string, std::string> headers,
                                std::chrono::milliseconds timeout) {
    auto& stream = beast::get_lowest_layer(ws);
    stream.expires_after(timeout);
    tcp::resolver resolver(ioc);
    const auto endpoints =
        co_await resolver.async_resolve(host, std::to_string(port), asio::use_awaitable);
    co_await stream.async_connect(endpoints, asio::use_awaitable);
    std::string host_header = host + ":" + std::to_string(port);
    for (auto it = headers.begin(); it != headers.end();) {
      if (beast::iequals(it->first, "host")) {
        host_header = it->second;
        it = headers.erase(it);
      } else {
        ++it;
      }
    }
    ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [name, value] : headers) {
        req.set(name, value);
      }
    }));
    co_await ws.async_handshake(host_header, target, asio::use_awaitable);
    stream.expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  }

  asio::awaitable<void> read_loop() {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, bytes] = co_await ws.async_read(buffer, use_tuple);
      if (ec) {
        break;
      }
      websocket_message message{!ws.got_text(), beast::buffers_to_string(buffer.data())};
      buffer.consume(buffer.size());
      {
        std::lock_guard lock(mutex);
        inbox.push_back(std::move(message));
      }
      cv.notify_all();
    }
    {
      std::lock_guard lock(mutex);
      ended = true;
    }
    cv.notify_all();
  }

  asio::awaitable<void> write_loop() {
    while (!outbox.empty()) {
      std::string message = std::move(outbox.front());
      outbox.pop_front();
      ws.text(true);
      auto [ec, bytes] = co_await ws.async_write(asio::buffer(message), use_tuple);
      if (ec) {
        outbox.clear();
        break;
      }
    }
    writing = false;
  }

  void shut_down() {
    work.reset();
    if (thread.joinable()) {
      ioc.stop();
      thread.join();
    }
  }
};

websocket_client::websocket_client(const std::string& host, std::uint16_t port,
                                   const std::string& target,
                                   const std::map<std::string, std::string>& headers,
                                   std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
  auto& self = *impl_;
  auto connected = asio::co_spawn(self.ioc, self.connect(host, port, target, headers, timeout),
                                  asio::use_future);
  self.thread = std::thread([&self] { self.ioc.run(); });
  try {
    connected.get();
  } catch (const std::exception& e) {
    self.shut_down();
    throw std::runtime_error("websocket connect to " + host + ":" + std::to_string(port) + target +
                             " failed: " + e.what());
  }
  asio::co_spawn(self.ioc, self.read_loop(), asio::detached);
}

websocket_client::~websocket_client() {
  try {
    close();
  } catch (...) {
    // A destructor must not throw; the connection is gone either way.
  }
}

void websocket_client::send_text(const std::string& text) {
  auto& self = *impl_;
  {
    std::lock_guard lock(self.mutex);
    if (self.ended || self.closed_by_us) {
      throw std::runtime_error("websocket_client::send_text on a closed connection");
    }
  }
  asio::post(self.ioc, [&self, text] {
    self.outbox.push_back(text);
    if (!self.writing) {
      self.writing = true;
      asio::co_spawn(self.ioc, self.write_loop(), asio::detached);
    }
  });
}

std::optional<websocket_message> websocket_client::receive(std::chrono::milliseconds timeout) {
  auto& self = *impl_;
  std::unique_lock lock(self.mutex);
  self.cv.wait_for(lock, timeout, [&] { return !self.inbox.empty() || self.ended; });
  if (self.inbox.empty()) {
    return std::nullopt;
  }
  websocket_message message = std::move(self.inbox.front());
  self.inbox.pop_front();
  return message;
}

void websocket_client::close() {
  auto& self = *impl_;
  {
    std::lock_guard lock(self.mutex);
    if (self.closed_by_us) {
      return;
    }
    self.closed_by_us = true;
  }
  asio::co_spawn(
      self.ioc,
      [&self]() -> asio::awaitable<void> {
        auto [ec] = co_await self.ws.async_close(websocket::close_code::normal, use_tuple);
        if (ec) {
          beast::get_lowest_layer(self.ws).close();
        }
      },
      asio::detached);
  {
    std::unique_lock lock(self.mutex);
    self.cv.wait_for(lock, close_wait, [&] { return self.ended; });
  }
  self.shut_down();
}

}  // namespace comfydist::net
