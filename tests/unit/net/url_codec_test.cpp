// Unit tests for percent-decoding of paths and query strings.
#include "net/url_codec.hpp"

#include <gtest/gtest.h>

namespace comfydist::net {
namespace {

TEST(url_codec, decodes_escapes_and_keeps_malformed_ones) {
  EXPECT_EQ(percent_decode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(percent_decode("100%", false), "100%");
  EXPECT_EQ(percent_decode("%zz%4", false), "%zz%4");
  EXPECT_EQ(percent_decode("%e2%9c%93", false), "\xe2\x9c\x93");
}

TEST(url_codec, plus_is_space_only_in_form_encoding) {
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b%2B", true), "a b+");
}

TEST(url_codec, query_first_value_wins_and_blank_values_are_kept) {
  const auto q =
      parse_query("filename=a+b.png&type=output&filename=second&flag&sub%20folder=x%26y&&");
  EXPECT_EQ(q.at("filename"), "a b.png");
  EXPECT_EQ(q.at("type"), "output");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(q.at("sub folder"), "x&y");
  EXPECT_EQ(q.size(), 4U);
}

TEST(url_codec, split_path_decodes_each_segment) {
  EXPECT_EQ(split_path("/"), std::vector<std::string>{""});
  EXPECT_EQ(split_path("/history/a%2Fb"), (std::vector<std::string>{"history", "a/b"}));
  EXPECT_EQ(split_path("/a/"), (std::vector<std::string>{"a", ""}));
}

}  // namespace
}  // namespace comfydist::net
