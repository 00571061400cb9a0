// In-process tests of the WebSocket endpoint: upgrade, echo, ordering, close, origin check, caps.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "server_harness.hpp"

namespace comfydist::net {
namespace {

using testing::eventually;
using testing::start_server;

// Records what the server saw.
struct ws_log {
  std::mutex mutex;
  std::vector<std::string> client_ids;
  std::vector<std::string> texts;
  std::set<std::uint64_t> open_ids;
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  std::shared_ptr<websocket_connection> last;
};

websocket_handlers echo_handlers(ws_log& log, int greeting_count = 0) {
  websocket_handlers h;
  h.on_open = [&log, greeting_count](const http_request& request,
                                     std::shared_ptr<websocket_connection> connection) {
    {
      std::lock_guard lock(log.mutex);
      log.client_ids.push_back(request.query_param("clientId").value_or(""));
      log.open_ids.insert(connection->id());
      log.last = connection;
    }
    for (int i = 0; i < greeting_count; ++i) {
      connection->send_text(std::to_string(i));
    }
    ++log.opened;
  };
  h.on_text = [&log](const std::shared_ptr<websocket_connection>& connection,
                     const std::string& text) {
    {
      std::lock_guard lock(log.mutex);
      log.texts.push_back(text);
    }
    if (text == "please close") {
      connection->close();
    } else if (text == "binary") {
      connection->send_binary(std::string("\x00\x01\x02", 3));
    } else {
      connection->send_text("echo:" + text);
    }
  };
  h.on_close = [&log](const std::shared_ptr<websocket_connection>& connection) {
    std::lock_guard lock(log.mutex);
    EXPECT_EQ(log.open_ids.count(connection->id()), 1U);
    ++log.closed;
  };
  return h;
}

TEST(websocket, echoes_text_and_binary_and_sees_the_query) {
  ws_log log;
  auto server = start_server([&](http_server& s) { s.add_websocket("/ws", echo_handlers(log)); });
  websocket_client client("127.0.0.1", server->bound_port(), "/ws?clientId=abc%20d");
  client.send_text("hello");
  auto m = client.receive(std::chrono::seconds(5));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->binary);
  EXPECT_EQ(m->data, "echo:hello");
  client.send_text("binary");
  m = client.receive(std::chrono::seconds(5));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->binary);
  EXPECT_EQ(m->data, std::string("\x00\x01\x02", 3));
  EXPECT_FALSE(client.receive(std::chrono::milliseconds(50)));  // a timeout keeps the connection
  client.send_text("again");
  m = client.receive(std::chrono::seconds(5));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "echo:again");
  std::lock_guard lock(log.mutex);
  EXPECT_EQ(log.client_ids, std::vector<std::string>{"abc d"});
}

TEST(websocket, sends_arrive_in_order_and_close_is_reported_once) {
  ws_log log;
  auto server =
      start_server([&](http_server& s) { s.add_websocket("/ws", echo_handlers(log, 500)); });
  {
    websocket_client client("127.0.0.1", server->bound_port(), "/ws");
    for (int i = 0; i < 500; ++i) {
      const auto m = client.receive(std::chrono::seconds(5));
      ASSERT_TRUE(m) << "message " << i;
      ASSERT_EQ(m->data, std::to_string(i));
    }
    client.close();
  }
  EXPECT_TRUE(eventually([&] { return log.closed.load() == 1; }));
  EXPECT_EQ(log.opened.load(), 1);
}

TEST(websocket, sends_from_many_threads_keep_per_thread_order) {
  ws_log log;
  auto server = start_server([&](http_server& s) { s.add_websocket("/ws", echo_handlers(log)); });
  websocket_client client("127.0.0.1", server->bound_port(), "/ws");
  ASSERT_TRUE(eventually([&] { return log.opened.load() == 1; }));
  std::shared_ptr<websocket_connection> connection;
  {
    std::lock_guard lock(log.mutex);
    connection = log.last;
  }
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([connection, t] {
      for (int i = 0; i < 100; ++i) {
        connection->send_text(std::to_string(t) + ":" + std::to_string(i));
      }
    });
  }
  for (auto& s : senders) {
    s.join();
  }
  std::vector<int> next(4, 0);
  for (int n = 0; n < 400; ++n) {
    const auto m = client.receive(std::chrono::seconds(5));
    ASSERT_TRUE(m);
    const int t = std::stoi(m->data.substr(0, m->data.find(':')));
    const int i = std::stoi(m->data.substr(m->data.find(':') + 1));
    ASSERT_EQ(i, next[t]) << "thread " << t;
    ++next[t];
  }
}

TEST(websocket, server_side_close_ends_the_client) {
  ws_log log;
  auto server = start_server([&](http_server& s) { s.add_websocket("/ws", echo_handlers(log)); });
  websocket_client client("127.0.0.1", server->bound_port(), "/ws");
  client.send_text("please close");
  EXPECT_FALSE(client.receive(std::chrono::seconds(5)));
  EXPECT_TRUE(eventually([&] { return log.closed.load() == 1; }));
  EXPECT_THROW(client.send_text("too late"), std::runtime_error);
}

TEST(websocket, plain_get_is_400_and_origin_check_applies_to_the_upgrade) {
  ws_log log;
  auto server = start_server([&](http_server& s) { s.add_websocket("/ws", echo_handlers(log)); });
  const auto port = server->bound_port();
  const auto r = http_fetch("127.0.0.1", port, "GET", "/ws");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(http_fetch("127.0.0.1", port, "POST", "/ws").status, 405);

  const std::string host = "127.0.0.1:" + std::to_string(port);
  EXPECT_THROW(websocket_client("127.0.0.1", port, "/ws",
                                {{"Host", host}, {"Origin", "http://evil.example:1"}}),
               std::runtime_error);
  EXPECT_THROW(websocket_client("127.0.0.1", port, "/ws", {{"Sec-Fetch-Site", "cross-site"}}),
               std::runtime_error);
  websocket_client ok("127.0.0.1", port, "/ws", {{"Host", host}, {"Origin", "http://" + host}});
  EXPECT_TRUE(eventually([&] { return log.opened.load() == 1; }));
}

TEST(websocket, a_client_that_does_not_read_is_dropped_at_the_queue_cap) {
  ws_log log;
  // 2000 messages are queued on the strand before the first write starts: over the 1024 cap.
  auto server =
      start_server([&](http_server& s) { s.add_websocket("/ws", echo_handlers(log, 2000)); });
  websocket_client client("127.0.0.1", server->bound_port(), "/ws");
  EXPECT_TRUE(eventually([&] { return log.closed.load() == 1; }));
  int received = 0;
  while (client.receive(std::chrono::seconds(2))) {
    ++received;
  }
  EXPECT_LT(received, 2000);
}

TEST(websocket, stop_closes_open_connections_and_reports_on_close) {
  ws_log log;
  auto server = start_server([&](http_server& s) { s.add_websocket("/ws", echo_handlers(log)); });
  websocket_client client("127.0.0.1", server->bound_port(), "/ws");
  ASSERT_TRUE(eventually([&] { return log.opened.load() == 1; }));
  server->stop();
  EXPECT_EQ(log.closed.load(), 1);
  EXPECT_FALSE(client.receive(std::chrono::seconds(2)));
  // A handle kept by route code after the server is gone is inert.
  std::lock_guard lock(log.mutex);
  server.reset();
  log.last->send_text("nobody listens");
  log.last->close();
}

}  // namespace
}  // namespace comfydist::net
