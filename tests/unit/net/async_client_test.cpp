// Tests of the asynchronous HTTP client against the in-process server and misbehaving peers:
// concurrency, deadlines, error kinds, limits, stop().
#include "net/async_http_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <vector>

#include "scripted_server.hpp"
#include "server_harness.hpp"

namespace comfydist::net {
namespace {

using nlohmann::json;
using testing::scripted_server;
using testing::silent_listener;
using testing::start_server;
using testing::unused_port;

client_request loopback(std::uint16_t port, std::string target = "/") {
  client_request request;
  request.host = "127.0.0.1";
  request.port = port;
  request.target = std::move(target);
  return request;
}

// Collects the results of many fetches and waits for all of them.
class result_sink {
 public:
  std::function<void(client_result)> slot(std::size_t index) {
    std::lock_guard lock(mutex_);
    if (results_.size() <= index) {
      results_.resize(index + 1);
    }
    ++expected_;
    return [this, index](client_result result) {
      std::lock_guard lock(mutex_);
      results_[index] = std::move(result);
      ++received_;
      cv_.notify_all();
    };
  }
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return received_ == expected_; });
  }
  std::vector<client_result> results() {
    std::lock_guard lock(mutex_);
    return results_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<client_result> results_;
  std::size_t expected_ = 0;
  std::size_t received_ = 0;
};

std::unique_ptr<http_server> echo_server() {
  return start_server([](http_server& s) {
    const auto echo = [](http_request request, http_responder respond) {
      const json body = {{"method", request.method},
                         {"n", request.query_param("n").value_or("")},
                         {"body", request.body},
                         {"host", request.header("host").value_or("")},
                         {"custom", request.header("x-custom").value_or("")}};
      respond(http_response::json(200, body.dump()));
    };
    s.add_route("GET", "/echo", echo);
    s.add_route("POST", "/echo", echo);
    s.add_route("GET", "/big", [](http_request, http_responder respond) {
      http_response response;
      response.body.assign(4096, 'x');
      respond(std::move(response));
    });
    s.add_route("GET", "/status/{code}", [](http_request request, http_responder respond) {
      respond(http_response::empty(std::stoi(request.path_params.at("code"))));
    });
  });
}

TEST(async_http_client, one_hundred_concurrent_fetches_complete) {
  auto server = echo_server();
  result_sink sink;
  async_http_client client;
  constexpr std::size_t count = 100;
  for (std::size_t i = 0; i < count; ++i) {
    client.fetch(loopback(server->bound_port(), "/echo?n=" + std::to_string(i)), sink.slot(i));
  }
  ASSERT_TRUE(sink.wait(std::chrono::seconds(30)));
  const auto results = sink.results();
  for (std::size_t i = 0; i < count; ++i) {
    ASSERT_TRUE(results[i].ok) << i << ": " << results[i].error;
    EXPECT_EQ(results[i].status, 200);
    EXPECT_EQ(json::parse(results[i].body)["n"], std::to_string(i));
  }
}

TEST(async_http_client, sends_method_body_and_headers_and_returns_lowercase_headers) {
  auto server = echo_server();
  async_http_client_options options;
  options.threads = 2;
  async_http_client client(options);
  auto request = loopback(server->bound_port(), "/echo");
  request.method = "POST";
  request.body = R"({"a":1})";
  request.headers["X-Custom"] = "yes";
  const auto result = client.fetch_sync(request);
  ASSERT_TRUE(result.ok) << result.error;
  const auto body = json::parse(result.body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["body"], R"({"a":1})");
  EXPECT_EQ(body["custom"], "yes");
  EXPECT_EQ(body["host"], "127.0.0.1:" + std::to_string(server->bound_port()));
  EXPECT_EQ(result.headers.at("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(result.headers.at("server"), "comfydist");
}

TEST(async_http_client, any_complete_response_is_ok_whatever_its_status) {
  auto server = echo_server();
  async_http_client client;
  auto result = client.fetch_sync(loopback(server->bound_port(), "/status/502"));
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 502);
  result = client.fetch_sync(loopback(server->bound_port(), "/missing"));
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.status, 404);
}

TEST(async_http_client, refused_port_is_reported_with_the_address) {
  async_http_client client;
  const auto port = unused_port();
  const auto result = client.fetch_sync(loopback(port));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_kind, "refused");
  EXPECT_EQ(result.error, "connection refused by 127.0.0.1:" + std::to_string(port));
}

TEST(async_http_client, silent_peer_times_out_while_other_fetches_complete) {
  auto server = echo_server();
  silent_listener silent;
  // Declared before the client, which may still call back while it stops.
  result_sink sink;
  std::atomic<int> finished_before_timeout{0};
  std::atomic<bool> timed_out{false};
  async_http_client client;
  auto hanging = loopback(silent.port());
  hanging.timeout = std::chrono::milliseconds(500);
  const auto started = std::chrono::steady_clock::now();
  client.fetch(hanging, sink.slot(0));
  for (std::size_t i = 0; i < 20; ++i) {
    client.fetch(loopback(server->bound_port(), "/echo"), [&](client_result result) {
      if (result.ok && !timed_out) {
        ++finished_before_timeout;
      }
    });
  }
  ASSERT_TRUE(sink.wait(std::chrono::seconds(10)));
  timed_out = true;
  const auto elapsed = std::chrono::steady_clock::now() - started;
  const auto result = sink.results()[0];
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_kind, "timeout");
  EXPECT_EQ(result.error, "timed out after 500 ms waiting for the response from 127.0.0.1:" +
                              std::to_string(silent.port()));
  EXPECT_GE(elapsed, std::chrono::milliseconds(450));
  EXPECT_LT(elapsed, std::chrono::milliseconds(3000));
  EXPECT_EQ(finished_before_timeout, 20);
}

TEST(async_http_client, garbage_response_is_an_http_error) {
  scripted_server garbage("this is not HTTP\r\n\r\n");
  async_http_client client;
  const auto result = client.fetch_sync(loopback(garbage.port()));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_kind, "http");
  EXPECT_NE(result.error.find("malformed HTTP response from 127.0.0.1:"), std::string::npos)
      << result.error;
}

TEST(async_http_client, peer_closing_without_answer_is_closed) {
  scripted_server closer("");
  async_http_client client;
  auto result = client.fetch_sync(loopback(closer.port()));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_kind, "closed");
  EXPECT_NE(result.error.find("closed the connection without answering"), std::string::npos)
      << result.error;

  scripted_server truncated("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
  result = client.fetch_sync(loopback(truncated.port()));
  EXPECT_EQ(result.error_kind, "closed");
  EXPECT_NE(result.error.find("in the middle of the response"), std::string::npos) << result.error;
}

TEST(async_http_client, response_over_the_limit_is_too_large) {
  auto server = echo_server();
  async_http_client client;
  auto request = loopback(server->bound_port(), "/big");
  request.max_response_bytes = 1024;
  auto result = client.fetch_sync(request);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_kind, "too_large");
  EXPECT_NE(result.error.find("exceeds the limit of 1024 bytes"), std::string::npos)
      << result.error;

  request.max_response_bytes = 4096;
  result = client.fetch_sync(request);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.body.size(), 4096U);
}

TEST(async_http_client, unknown_host_is_a_dns_error) {
  async_http_client client;
  client_request request;
  request.host = "no-such-host.invalid";
  request.port = 80;
  request.timeout = std::chrono::milliseconds(5000);
  const auto result = client.fetch_sync(request);
  EXPECT_FALSE(result.ok);
  // Without network access the resolver may also give up by running out of time.
  EXPECT_TRUE(result.error_kind == "dns" || result.error_kind == "timeout") << result.error;
}

TEST(async_http_client, stop_cancels_requests_in_flight_and_later_ones) {
  silent_listener silent;
  result_sink sink;
  async_http_client client;
  auto hanging = loopback(silent.port());
  hanging.timeout = std::chrono::seconds(60);
  client.fetch(hanging, sink.slot(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto started = std::chrono::steady_clock::now();
  client.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  ASSERT_TRUE(sink.wait(std::chrono::seconds(1)));
  EXPECT_EQ(sink.results()[0].error_kind, "cancelled");

  const auto late = client.fetch_sync(hanging);
  EXPECT_EQ(late.error_kind, "cancelled");
  client.stop();
}

TEST(async_http_client, invalid_requests_and_ca_files_are_refused) {
  async_http_client client;
  auto request = loopback(80);
  request.scheme = "ftp";
  EXPECT_THROW(client.fetch_sync(request), std::invalid_argument);
  async_http_client_options options;
  options.extra_ca_file = "/nonexistent.pem";
  EXPECT_THROW(async_http_client{options}, std::runtime_error);
}

}  // namespace
}  // namespace comfydist::net
