// In-process tests of the HTTP server: routing, limits, error replies, responders, files,
// lifecycle.
#include "net/http_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/api_error.hpp"
#include "server_harness.hpp"

namespace comfydist::net {
namespace {

using nlohmann::json;
using testing::eventually;
using testing::get;
using testing::raw_exchange;
using testing::start_server;

http_handler echo_request() {
  return [](http_request request, http_responder respond) {
    const json body = {{"method", request.method},
                       {"path", request.path},
                       {"params", request.path_params},
                       {"query", request.query},
                       {"body", request.body}};
    respond(http_response::json(200, body.dump()));
  };
}

std::string error_type(const client_response& response) {
  return json::parse(response.body).at("error").at("type").get<std::string>();
}

TEST(http_server, routes_with_parameters_query_and_decoded_path) {
  auto server = start_server([](http_server& s) {
    s.add_route("GET", "/history/{prompt_id}", echo_request());
    s.add_route("GET", "/history/queue", [](http_request, http_responder respond) {
      respond(http_response::json(200, R"({"literal":true})"));
    });
    s.add_route("POST", "/files/{name}", echo_request());
  });

  auto r = get(*server, "/history/p%201?filename=a+b%2Fc.png&type=out&type=in&empty");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json::parse(r.body);
  EXPECT_EQ(body["path"], "/history/p 1");
  EXPECT_EQ(body["params"]["prompt_id"], "p 1");
  EXPECT_EQ(body["query"]["filename"], "a b/c.png");
  EXPECT_EQ(body["query"]["type"], "out");
  EXPECT_EQ(body["query"]["empty"], "");
  EXPECT_EQ(r.headers["content-type"], "application/json; charset=utf-8");
  EXPECT_EQ(r.headers["server"], "comfydist");
  EXPECT_EQ(r.headers["content-length"], std::to_string(r.body.size()));

  r = get(*server, "/history/queue");
  EXPECT_EQ(json::parse(r.body)["literal"], true);

  r = http_fetch("127.0.0.1", server->bound_port(), "POST", "/files/x.txt", "payload");
  ASSERT_EQ(r.status, 200);
  body = json::parse(r.body);
  EXPECT_EQ(body["body"], "payload");
  EXPECT_EQ(body["method"], "POST");
}

TEST(http_server, unknown_path_is_404_and_wrong_method_is_405) {
  auto server = start_server([](http_server& s) {
    s.add_route("GET", "/prompt", echo_request());
    s.add_route("POST", "/prompt", echo_request());
  });
  auto r = get(*server, "/nothing/here");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_type(r), "not_found");
  EXPECT_EQ(r.headers["content-type"], "application/json; charset=utf-8");

  r = http_fetch("127.0.0.1", server->bound_port(), "DELETE", "/prompt");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(error_type(r), "method_not_allowed");
  EXPECT_EQ(r.headers["allow"], "GET, POST");

  r = http_fetch("127.0.0.1", server->bound_port(), "HEAD", "/prompt");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_NE(r.headers["content-length"], "0");
}

TEST(http_server, body_over_the_limit_is_413_before_the_handler) {
  std::atomic<int> calls{0};
  http_server_options options;
  options.max_body_bytes = 1024;
  auto server = start_server(
      [&](http_server& s) {
        s.add_route("POST", "/upload", [&](http_request request, http_responder respond) {
          ++calls;
          respond(http_response::json(200, std::to_string(request.body.size())));
        });
      },
      options);
  auto r = http_fetch("127.0.0.1", server->bound_port(), "POST", "/upload", std::string(1024, 'a'));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "1024");

  r = http_fetch("127.0.0.1", server->bound_port(), "POST", "/upload", std::string(300000, 'a'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_type(r), "payload_too_large");
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(calls.load(), 1);
}

TEST(http_server, answers_expect_100_continue_and_refuses_large_bodies_early) {
  http_server_options options;
  options.max_body_bytes = 1024;
  auto server =
      start_server([](http_server& s) { s.add_route("POST", "/upload", echo_request()); }, options);
  {
    testing::raw_connection c(server->bound_port());
    c.send(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        "Expect: 100-continue\r\n\r\n");
    const auto interim = c.receive(std::chrono::seconds(5), "\r\n\r\n");
    EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue", 0), 0U) << interim;
    c.send("hello");
    const auto reply = c.receive(std::chrono::seconds(5), "hello\"}");
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0U) << reply;
  }
  {
    // Refused on the Content-Length alone: the body is never sent.
    testing::raw_connection c(server->bound_port());
    c.send(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n"
        "Expect: 100-continue\r\n\r\n");
    const auto reply = c.receive(std::chrono::seconds(5), "}}");
    EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0U) << reply;
    EXPECT_NE(reply.find("payload_too_large"), std::string::npos) << reply;
  }
}

TEST(http_server, malformed_and_oversized_headers_are_rejected) {
  http_server_options options;
  options.max_header_bytes = 2048;
  auto server =
      start_server([](http_server& s) { s.add_route("GET", "/", echo_request()); }, options);
  auto reply = raw_exchange(server->bound_port(), "GARBAGE\x01 / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0U) << reply;
  EXPECT_NE(reply.find("bad_request"), std::string::npos);

  reply =
      raw_exchange(server->bound_port(),
                   "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'b') + "\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0U) << reply;
}

TEST(http_server, keeps_connections_alive_across_requests) {
  auto server = start_server([](http_server& s) { s.add_route("GET", "/a", echo_request()); });
  const std::string two =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /a?n=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const auto reply = raw_exchange(server->bound_port(), two);
  const auto first = reply.find("HTTP/1.1 200");
  ASSERT_NE(first, std::string::npos) << reply;
  EXPECT_NE(reply.find("HTTP/1.1 200", first + 1), std::string::npos) << reply;
}

TEST(http_server, idle_connection_is_closed_after_the_request_timeout) {
  http_server_options options;
  options.request_timeout_seconds = 1;
  auto server =
      start_server([](http_server& s) { s.add_route("GET", "/", echo_request()); }, options);
  const auto begin = std::chrono::steady_clock::now();
  const auto reply =
      raw_exchange(server->bound_port(), "GET / HTTP/1.1\r\nHost:", std::chrono::seconds(10));
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_TRUE(reply.empty()) << reply;
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(http_server, handler_may_reply_from_another_thread) {
  std::vector<std::thread> workers;
  std::mutex mutex;
  auto server = start_server([&](http_server& s) {
    s.add_route("GET", "/slow", [&](http_request request, http_responder respond) {
      std::lock_guard lock(mutex);
      workers.emplace_back([respond, q = request.query_param("v").value_or("none")] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        respond(http_response::json(202, "\"" + q + "\""));
      });
    });
  });
  const auto r = get(*server, "/slow?v=later");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, "\"later\"");
  std::lock_guard lock(mutex);
  for (auto& w : workers) {
    w.join();
  }
}

TEST(http_server, thrown_errors_and_dropped_responders_become_json_errors) {
  auto server = start_server([](http_server& s) {
    s.add_route("GET", "/api-error", [](http_request, http_responder) {
      throw api_error(409, "conflict", "already queued");
    });
    s.add_route("GET", "/boom",
                [](http_request, http_responder) { throw std::runtime_error("disk on fire"); });
    s.add_route("GET", "/dropped", [](http_request, http_responder) {});
    s.add_route("GET", "/twice", [](http_request, http_responder respond) {
      respond(http_response::json(200, "1"));
      respond(http_response::json(200, "2"));
    });
  });
  auto r = get(*server, "/api-error");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error_type(r), "conflict");
  EXPECT_EQ(json::parse(r.body)["error"]["message"], "already queued");

  r = get(*server, "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(error_type(r), "internal_error");

  r = get(*server, "/dropped");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(error_type(r), "internal_error");

  r = get(*server, "/twice");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "1");
  EXPECT_EQ(get(*server, "/twice").body, "1");  // the server is still serving
}

TEST(http_server, a_responder_outliving_the_server_is_harmless) {
  std::mutex mutex;
  std::vector<http_responder> kept;
  auto server = start_server([&](http_server& s) {
    s.add_route("GET", "/hold", [&](http_request, http_responder respond) {
      std::lock_guard lock(mutex);
      kept.push_back(std::move(respond));
    });
  });
  std::thread client([port = server->bound_port()] {
    EXPECT_THROW(http_fetch("127.0.0.1", port, "GET", "/hold", {}, {}, std::chrono::seconds(5)),
                 std::runtime_error);
  });
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return kept.size() == 1;
  }));
  server.reset();  // closes the waiting connection
  client.join();
  kept.front()(http_response::json(200, "{}"));  // nobody to deliver to: dropped quietly
  kept.clear();
}

TEST(http_server, request_headers_are_lowercase_and_response_headers_pass_through) {
  auto server = start_server([](http_server& s) {
    s.add_route("GET", "/h", [](http_request request, http_responder respond) {
      http_response r =
          http_response::json(200, json{{"custom", request.header("x-custom").value_or("")},
                                        {"remote", request.remote_address},
                                        {"target", request.target}}
                                       .dump());
      r.headers.emplace_back("Server", "ComfyUI-compatible");
      r.headers.emplace_back("Cache-Control", "no-cache");
      r.headers.emplace_back("Content-Length", "999");  // ignored: the server computes it
      respond(std::move(r));
    });
  });
  const auto r = get(*server, "/h?a=%20", {{"X-Custom", "yes"}});
  ASSERT_EQ(r.status, 200);
  const auto body = json::parse(r.body);
  EXPECT_EQ(body["custom"], "yes");
  EXPECT_EQ(body["remote"], "127.0.0.1");
  EXPECT_EQ(body["target"], "/h?a=%20");
  EXPECT_EQ(r.headers.at("server"), "ComfyUI-compatible");
  EXPECT_EQ(r.headers.at("cache-control"), "no-cache");
  EXPECT_EQ(r.headers.at("content-length"), std::to_string(r.body.size()));
}

TEST(http_server, streams_files_and_404s_missing_ones) {
  const auto dir = std::filesystem::temp_directory_path() / "comfydist_net_file_test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "image.bin";
  std::string content;
  for (int i = 0; i < 100000; ++i) {
    content.push_back(static_cast<char>(i * 7));
  }
  {
    std::ofstream out(file, std::ios::binary);
    out << content;
  }
  auto server = start_server([&](http_server& s) {
    s.add_route("GET", "/view", [&](http_request request, http_responder respond) {
      http_response r;
      r.headers.emplace_back("Content-Type", "image/png");
      r.headers.emplace_back("Content-Disposition", "filename=\"image.bin\"");
      r.file = dir / request.query_param("filename").value_or("");
      respond(std::move(r));
    });
  });
  auto r = get(*server, "/view?filename=image.bin");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, content);
  EXPECT_EQ(r.headers["content-length"], std::to_string(content.size()));
  EXPECT_EQ(r.headers["content-type"], "image/png");

  r = http_fetch("127.0.0.1", server->bound_port(), "HEAD", "/view?filename=image.bin");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.headers["content-length"], std::to_string(content.size()));

  r = get(*server, "/view?filename=missing.bin");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_type(r), "not_found");
  std::filesystem::remove_all(dir);
}

TEST(http_server, cors_headers_on_every_reply_and_preflight_skips_handlers) {
  std::atomic<int> calls{0};
  http_server_options options;
  options.cors_origin = "http://ui.example";
  options.max_body_bytes = 16;
  auto server = start_server(
      [&](http_server& s) {
        s.add_route("POST", "/prompt", [&](http_request, http_responder respond) {
          ++calls;
          respond(http_response::json(200, "{}"));
        });
      },
      options);
  const auto expect_cors = [](const client_response& r) {
    EXPECT_EQ(r.headers.at("access-control-allow-origin"), "http://ui.example");
    EXPECT_EQ(r.headers.at("access-control-allow-methods"),
              "POST, GET, DELETE, PUT, OPTIONS, PATCH");
    EXPECT_EQ(r.headers.at("access-control-allow-headers"), "Content-Type, Authorization");
    EXPECT_EQ(r.headers.at("access-control-allow-credentials"), "true");
  };
  const auto port = server->bound_port();
  auto r = http_fetch("127.0.0.1", port, "OPTIONS", "/prompt");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  expect_cors(r);
  r = http_fetch("127.0.0.1", port, "OPTIONS", "/unknown");
  EXPECT_EQ(r.status, 200);
  expect_cors(r);
  EXPECT_EQ(calls.load(), 0);

  r = http_fetch("127.0.0.1", port, "POST", "/prompt", "{}",
                 {{"Origin", "http://ui.example"}, {"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(r.status, 200);
  expect_cors(r);
  r = get(*server, "/unknown");
  EXPECT_EQ(r.status, 404);
  expect_cors(r);
  r = http_fetch("127.0.0.1", port, "POST", "/prompt", std::string(100, 'x'));
  EXPECT_EQ(r.status, 413);
  expect_cors(r);
  EXPECT_EQ(calls.load(), 1);
}

TEST(http_server, origin_check_rejects_cross_site_requests) {
  std::atomic<int> calls{0};
  auto server = start_server([&](http_server& s) {
    s.add_route("GET", "/prompt", [&](http_request, http_responder respond) {
      ++calls;
      respond(http_response::json(200, "{}"));
    });
  });
  const auto port = server->bound_port();
  const std::string host = "127.0.0.1:" + std::to_string(port);

  auto r = get(*server, "/prompt", {{"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(r.headers.find("access-control-allow-origin") == r.headers.end());

  r = get(*server, "/prompt",
          {{"Host", host}, {"Origin", "http://evil.example:" + std::to_string(port)}});
  EXPECT_EQ(r.status, 403);
  r = get(*server, "/unknown", {{"Host", host}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(calls.load(), 0);

  r = get(*server, "/prompt", {{"Host", host}, {"Origin", "http://" + host}});
  EXPECT_EQ(r.status, 200);
  r = get(*server, "/prompt", {{"Host", "10.1.2.3:8188"}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(r.status, 200);
  r = get(*server, "/prompt", {{"Sec-Fetch-Site", "same-origin"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(calls.load(), 3);

  r = http_fetch("127.0.0.1", port, "OPTIONS", "/prompt");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(calls.load(), 3);
}

TEST(http_server, bind_failure_names_address_and_port) {
  auto first = start_server([](http_server&) {});
  http_server_options options;
  options.addresses = {"127.0.0.1"};
  options.port = first->bound_port();
  http_server second(options);
  try {
    second.start();
    FAIL() << "expected the second bind to fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(options.port)),
        std::string::npos)
        << e.what();
  }
}

TEST(http_server, listens_on_ipv4_and_ipv6_wildcards_on_one_port) {
  http_server_options options;
  options.addresses = {"0.0.0.0", "::"};
  options.port = 0;
  http_server server(options);
  server.add_route("GET", "/", echo_request());
  try {
    server.start();
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 here: " << e.what();
  }
  EXPECT_EQ(http_fetch("127.0.0.1", server.bound_port(), "GET", "/").status, 200);
  EXPECT_EQ(http_fetch("::1", server.bound_port(), "GET", "/").status, 200);
}

TEST(http_server, stop_is_idempotent_and_releases_wait) {
  auto server = start_server([](http_server& s) { s.add_route("GET", "/", echo_request()); });
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    server->wait();
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(returned.load());
  server->stop();
  waiter.join();
  EXPECT_TRUE(returned.load());
  server->stop();
  EXPECT_THROW(get(*server, "/"), std::runtime_error);
}

TEST(http_server, stop_from_a_handler_does_not_deadlock) {
  http_server* self = nullptr;
  auto server = start_server([&](http_server& s) {
    self = &s;
    s.add_route("POST", "/shutdown", [&](http_request, http_responder respond) {
      respond(http_response::empty(200));
      self->stop();
    });
  });
  try {
    http_fetch("127.0.0.1", server->bound_port(), "POST", "/shutdown", "", {},
               std::chrono::seconds(2));
  } catch (const std::runtime_error&) {
    // The reply races the connection being closed by stop(); either outcome is fine here.
  }
  server->wait();
  SUCCEED();
}

TEST(http_server, sigterm_stops_the_server) {
  auto server = start_server([](http_server& s) { s.add_route("GET", "/", echo_request()); });
  stop_on_signals(*server);
  EXPECT_EQ(get(*server, "/").status, 200);
  std::raise(SIGTERM);
  server->wait();
  EXPECT_THROW(get(*server, "/"), std::runtime_error);
}

TEST(http_server, post_runs_on_the_io_context) {
  auto server = start_server([](http_server&) {});
  std::atomic<bool> ran{false};
  server->post([&] { ran = true; });
  server->post([] { throw std::runtime_error("posted task failure is logged, not fatal"); });
  EXPECT_TRUE(eventually([&] { return ran.load(); }));
}

}  // namespace
}  // namespace comfydist::net
