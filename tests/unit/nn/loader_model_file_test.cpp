// load_model_file: the reader is chosen by content and extension, the result is a valid graph, and
// every refusal reaches the caller as std::invalid_argument.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "loader_test_support.hpp"
#include "nn/model_file.hpp"

namespace comfydist::nn {
namespace {

using loader_test::fixture;

std::string load_message(const std::filesystem::path& path) {
  try {
    load_model_file(path);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

std::filesystem::path copy_as(const std::string& source, const std::string& name) {
  const auto target = std::filesystem::path(testing::TempDir()) / name;
  std::filesystem::copy_file(fixture(source), target,
                             std::filesystem::copy_options::overwrite_existing);
  return target;
}

TEST(LoaderModelFile, LoadsEachFormat) {
  EXPECT_EQ(load_model_file(fixture("rrdb_old_x4.pth"))->architecture, "RRDBNet");
  EXPECT_EQ(load_model_file(fixture("compact_x2.safetensors"))->scale, 2);
  EXPECT_EQ(load_model_file(copy_as("compact_x4.safetensors", "compact.sft"))->scale, 4);
  EXPECT_EQ(load_model_file(copy_as("rrdb_new_x4.pth", "rrdb.ckpt"))->architecture, "RRDBNet");
}

TEST(LoaderModelFile, SniffsContentBeforeExtension) {
  // A safetensors file named .pth and a torch archive named .safetensors still load.
  EXPECT_EQ(load_model_file(copy_as("compact_x2.safetensors", "misnamed.pth"))->scale, 2);
  EXPECT_EQ(load_model_file(copy_as("compact_x2.pth", "misnamed.safetensors"))->scale, 2);
}

TEST(LoaderModelFile, RefusalsReachTheCaller) {
  EXPECT_NE(load_message(fixture("malicious_os_system.pth")).find("asks for os.system"),
            std::string::npos);
  EXPECT_NE(load_message(fixture("truncated.pth")).find("truncated"), std::string::npos);
  EXPECT_NE(load_message(fixture("no_such_model.pth")).find("not found"), std::string::npos);
  EXPECT_NE(
      load_message(copy_as("input_1x3x12x10.json", "notes.txt")).find("expected .safetensors"),
      std::string::npos);
  // A state dict of the wrong architecture.
  EXPECT_NE(load_message(fixture("zip64.pth")).find("unsupported upscale model: found 1 tensors"),
            std::string::npos);
}

}  // namespace
}  // namespace comfydist::nn
