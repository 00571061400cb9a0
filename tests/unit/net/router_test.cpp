// Unit tests for route matching: parameters, literal precedence, 404 versus 405.
#include "net/router.hpp"

#include <gtest/gtest.h>

namespace comfydist::net {
namespace {

http_handler tagged(int* hit, int tag) {
  return [hit, tag](http_request, http_responder) { *hit = tag; };
}

void call(const router::match_result& m) {
  (*m.handler)(http_request{}, [](http_response) {});
}

TEST(router, matches_parameters_and_prefers_literal_segments) {
  int hit = 0;
  router r;
  r.add("GET", "/history/{prompt_id}", tagged(&hit, 1));
  r.add("GET", "/history/queue", tagged(&hit, 2));
  r.add("POST", "/history", tagged(&hit, 3));

  auto m = r.match("GET", "/history/abc%20d");
  ASSERT_EQ(m.kind, router::outcome::handler);
  EXPECT_EQ(m.params.at("prompt_id"), "abc d");
  call(m);
  EXPECT_EQ(hit, 1);

  m = r.match("GET", "/history/queue");
  ASSERT_EQ(m.kind, router::outcome::handler);
  EXPECT_TRUE(m.params.empty());
  call(m);
  EXPECT_EQ(hit, 2);
}

TEST(router, distinguishes_not_found_from_method_not_allowed) {
  int hit = 0;
  router r;
  r.add("GET", "/prompt", tagged(&hit, 1));
  r.add("POST", "/prompt", tagged(&hit, 2));
  r.add("GET", "/view/{name}", tagged(&hit, 3));

  EXPECT_EQ(r.match("GET", "/nope").kind, router::outcome::not_found);
  EXPECT_EQ(r.match("GET", "/view/").kind, router::outcome::not_found);  // empty parameter
  EXPECT_EQ(r.match("GET", "/prompt/").kind, router::outcome::not_found);
  const auto m = r.match("DELETE", "/prompt");
  EXPECT_EQ(m.kind, router::outcome::method_not_allowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "POST"}));
}

TEST(router, head_falls_back_to_get_and_websockets_win) {
  int hit = 0;
  router r;
  r.add("GET", "/ws", tagged(&hit, 1));
  r.add("GET", "/", tagged(&hit, 2));
  r.add_websocket("/ws", websocket_handlers{});

  auto m = r.match("HEAD", "/");
  ASSERT_EQ(m.kind, router::outcome::handler);
  call(m);
  EXPECT_EQ(hit, 2);
  EXPECT_EQ(r.match("GET", "/ws").kind, router::outcome::websocket);
}

TEST(router, rejects_patterns_without_leading_slash) {
  router r;
  EXPECT_THROW(r.add("GET", "prompt", [](http_request, http_responder) {}), std::invalid_argument);
}

}  // namespace
}  // namespace comfydist::net
