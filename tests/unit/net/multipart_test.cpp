// Unit tests for the multipart/form-data parser, including malformed bodies.
#include "net/multipart.hpp"

#include <gtest/gtest.h>

#include "common/api_error.hpp"

namespace comfydist::net {
namespace {

const std::string ct = "multipart/form-data; boundary=XyZ";

void expect_invalid(std::string_view content_type, std::string_view body, std::size_t max = 64) {
  try {
    parse_multipart(content_type, body, max);
    FAIL() << "expected invalid_multipart";
  } catch (const api_error& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.type(), "invalid_multipart");
  }
}

TEST(multipart, parses_fields_and_files) {
  const std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"image\"; filename=\"a b.png\"\r\n"
      "Content-Type: image/png\r\n"
      "\r\n"
      "\x89PNG\r\n\x1a\n--not-the-boundary\r\n"
      "--XyZ\r\n"
      "content-disposition: form-data; name=overwrite\r\n"
      "\r\n"
      "true\r\n"
      "--XyZ--\r\n";
  const auto parts = parse_multipart(ct, body);
  ASSERT_EQ(parts.size(), 2U);
  EXPECT_EQ(parts[0].name, "image");
  ASSERT_TRUE(parts[0].filename);
  EXPECT_EQ(*parts[0].filename, "a b.png");
  EXPECT_EQ(parts[0].content_type, "image/png");
  EXPECT_EQ(parts[0].data, std::string("\x89PNG\r\n\x1a\n--not-the-boundary"));
  EXPECT_EQ(parts[1].name, "overwrite");
  EXPECT_FALSE(parts[1].filename);
  EXPECT_EQ(parts[1].content_type, "");
  EXPECT_EQ(parts[1].data, "true");
}

TEST(multipart, quoted_boundary_escaped_quotes_preamble_and_empty_filename) {
  const std::string body =
      "preamble to ignore\r\n"
      "--a:b c\r\n"
      "Content-Disposition: form-data; name=\"f\\\"q\"; filename=\"\"\r\n"
      "\r\n"
      "\r\n"
      "--a:b c--";
  const auto parts =
      parse_multipart("multipart/form-data; charset=utf-8; BOUNDARY=\"a:b c\"", body);
  ASSERT_EQ(parts.size(), 1U);
  EXPECT_EQ(parts[0].name, "f\"q");
  ASSERT_TRUE(parts[0].filename);
  EXPECT_EQ(*parts[0].filename, "");
  EXPECT_EQ(parts[0].data, "");
}

TEST(multipart, extended_filename_wins) {
  const std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"image\"; filename=\"x.png\"; "
      "filename*=UTF-8''%C3%A9t%C3%A9.png\r\n"
      "\r\n"
      "data\r\n"
      "--XyZ--\r\n";
  const auto parts = parse_multipart(ct, body);
  ASSERT_EQ(parts.size(), 1U);
  EXPECT_EQ(*parts[0].filename, "\xC3\xA9t\xC3\xA9.png");
}

TEST(multipart, rejects_malformed_input) {
  const std::string part = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n";
  expect_invalid("application/json", part + "--XyZ--");
  expect_invalid("multipart/form-data", part + "--XyZ--");
  expect_invalid("multipart/form-data; boundary=\"\"", part + "--XyZ--");
  expect_invalid(ct, "no boundary here");
  expect_invalid(ct, part);  // no closing delimiter
  expect_invalid(ct, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n");  // headers open
  expect_invalid(ct, "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--");    // no disposition
  expect_invalid(ct, "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--");
  expect_invalid(ct, "--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nv\r\n--XyZ--");
  expect_invalid(ct, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--");
  expect_invalid(ct, "--XyZjunk\r\n");
  expect_invalid(ct, part + part + part + "--XyZ--", 2);
  EXPECT_EQ(parse_multipart(ct, part + part + "--XyZ--", 2).size(), 2U);
}

}  // namespace
}  // namespace comfydist::net
