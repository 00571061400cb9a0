// Path confinement and canonical UUIDs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/safe_path.hpp"
#include "common/uuid.hpp"

namespace comfydist {
namespace {
namespace fs = std::filesystem;

TEST(SafePath, ConfinesRelativeNames) {
  const fs::path base = fs::temp_directory_path() / ("cd-safe-" + make_uuid4_hex());
  fs::create_directories(base / "in" / "sub");
  fs::create_symlink(fs::temp_directory_path(), base / "in" / "escape");
  EXPECT_TRUE(confine_path(base / "in", "a.png"));
  EXPECT_TRUE(confine_path(base / "in", "sub/a.png"));
  EXPECT_TRUE(confine_path(base / "in", ""));
  EXPECT_FALSE(confine_path(base / "in", "../a.png"));
  EXPECT_FALSE(confine_path(base / "in", "sub/../../a.png"));
  EXPECT_FALSE(confine_path(base / "in", "/etc/passwd"));
  EXPECT_FALSE(confine_path(base / "in", std::string("a\0b", 3)));
  EXPECT_FALSE(confine_path(base / "in", "escape/x"));
  EXPECT_TRUE(is_plain_file_name("x.png"));
  EXPECT_FALSE(is_plain_file_name("a/b"));
  EXPECT_FALSE(is_plain_file_name(".."));
  fs::remove_all(base);
}

TEST(Uuid, CanonicalForm) {
  const std::string id = make_uuid4();
  EXPECT_TRUE(is_canonical_uuid(id));
  EXPECT_EQ(id[14], '4');
  EXPECT_FALSE(is_canonical_uuid("ABCDEF00-0000-4000-8000-000000000000"));
  EXPECT_FALSE(is_canonical_uuid("abcdef0000004000800000000000000a"));
  EXPECT_EQ(make_uuid4_hex().size(), 32U);
}

}  // namespace
}  // namespace comfydist
