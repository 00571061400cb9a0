// Unit tests for ComfyUI's CORS and origin-only middleware rules.
#include "net/origin_policy.hpp"

#include <gtest/gtest.h>

namespace comfydist::net {
namespace {

http_request request_with(std::string method, std::map<std::string, std::string> headers) {
  http_request r;
  r.method = std::move(method);
  r.path = "/prompt";
  r.headers = std::move(headers);
  return r;
}

TEST(origin_policy, recognises_loopback_hosts) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.8.9.10"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("10.0.0.7"));
  EXPECT_FALSE(is_loopback_host("::"));
  EXPECT_FALSE(is_loopback_host("example.com"));
  EXPECT_FALSE(is_loopback_host(""));
}

TEST(origin_policy, compares_host_and_origin_like_comfyui) {
  EXPECT_FALSE(origin_mismatch("127.0.0.1:8188", "http://127.0.0.1:8188"));
  EXPECT_TRUE(origin_mismatch("127.0.0.1:8188", "http://evil.example:8188"));
  EXPECT_TRUE(origin_mismatch("127.0.0.1:8188", "http://127.0.0.1:9999"));
  // Either side without a port: hostnames only.
  EXPECT_FALSE(origin_mismatch("localhost:8188", "http://localhost"));
  EXPECT_FALSE(origin_mismatch("localhost", "http://localhost:3000"));
  EXPECT_TRUE(origin_mismatch("localhost", "http://evil.example:3000"));
  EXPECT_FALSE(origin_mismatch("[::1]:8188", "http://[::1]:8188"));
  EXPECT_TRUE(origin_mismatch("[::1]:8188", "http://localhost:8188"));
  // Case-insensitive.
  EXPECT_FALSE(origin_mismatch("LOCALHOST:8188", "http://localhost:8188"));
  // A non-loopback host is never checked.
  EXPECT_FALSE(origin_mismatch("10.0.0.7:8188", "http://evil.example"));
  // "null" has no netloc.
  EXPECT_FALSE(origin_mismatch("127.0.0.1:8188", "null"));
}

TEST(origin_policy, origin_only_mode_rejects_and_answers_options) {
  const origin_policy policy(std::nullopt);
  EXPECT_TRUE(policy.response_headers().empty());
  EXPECT_FALSE(policy.screen(request_with("GET", {})));
  auto r = policy.screen(request_with("GET", {{"sec-fetch-site", "cross-site"}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_TRUE(r->body.empty());
  EXPECT_FALSE(policy.screen(request_with("GET", {{"sec-fetch-site", "same-origin"}})));
  r = policy.screen(request_with("POST", {{"host", "127.0.0.1:8188"}, {"origin", "http://a.b:1"}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = policy.screen(request_with("OPTIONS", {}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(origin_policy, cors_mode_skips_the_origin_check) {
  const origin_policy policy(std::string("*"));
  ASSERT_EQ(policy.response_headers().size(), 4U);
  EXPECT_EQ(policy.response_headers()[0].second, "*");
  EXPECT_FALSE(policy.screen(request_with("GET", {{"sec-fetch-site", "cross-site"}})));
  const auto r = policy.screen(request_with("OPTIONS", {}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace comfydist::net
