// Corrupted checkpoints (bytes flipped, files cut short) must load or fail with
// std::invalid_argument: never crash, hang, or throw anything else.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>

#include "loader_test_support.hpp"
#include "nn/esrgan/upscale_architecture.hpp"
#include "nn/pth/pth_reader.hpp"
#include "nn/safetensors/safetensors_reader.hpp"

namespace comfydist::nn {
namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// "ok", "refused", or a description of anything else.
std::string outcome(const std::string& bytes, const std::string& ext) {
  const auto path = std::filesystem::path(testing::TempDir()) / ("corrupt" + ext);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    build_upscale_graph(ext == ".pth" ? read_pth(path) : read_safetensors(path));
    return "ok";
  } catch (const std::invalid_argument&) {
    return "refused";
  } catch (const std::exception& e) {
    return std::string("unexpected exception: ") + e.what();
  }
}

TEST(LoaderCorruption, FlippedBytesAndTruncationsAreRefusedCleanly) {
  std::mt19937 random(42);
  for (const char* name : {"compact_x2.pth", "compact_x2.safetensors"}) {
    const std::string original = slurp(loader_test::fixture(name));
    const std::string ext = std::filesystem::path(name).extension().string();
    ASSERT_EQ(outcome(original, ext), "ok") << name;
    for (std::size_t cut = 0; cut < original.size(); cut += 97) {
      const std::string result = outcome(original.substr(0, cut), ext);
      EXPECT_EQ(result, "refused") << name << " cut at " << cut;
    }
    for (int trial = 0; trial < 300; ++trial) {
      std::string bytes = original;
      const int flips = 1 + trial % 4;
      for (int f = 0; f < flips; ++f) {
        // Bias towards the header/pickle and zip directory, where structure lives.
        const std::size_t span =
            trial % 2 == 0 ? std::min<std::size_t>(bytes.size(), 2048) : bytes.size();
        const std::size_t at =
            trial % 3 == 0 ? bytes.size() - 1 - random() % std::min<std::size_t>(bytes.size(), 1024)
                           : random() % span;
        bytes[at] = static_cast<char>(random() & 0xFF);
      }
      const std::string result = outcome(bytes, ext);
      EXPECT_TRUE(result == "ok" || result == "refused")
          << name << " trial " << trial << ": " << result;
    }
  }
}

}  // namespace
}  // namespace comfydist::nn
