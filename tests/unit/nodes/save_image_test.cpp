// SaveImage and PreviewImage: paths, counters, refusals, metadata; and the helpers behind them.
#include <gtest/gtest.h>

#include <regex>

#include "common/file_io.hpp"
#include "image/codecs.hpp"
#include "node_test_util.hpp"
#include "nodes/image/python_json.hpp"
#include "nodes/image/save_path.hpp"

namespace comfydist::nodes::test {
namespace {

class SaveImageTest : public ::testing::Test {
 protected:
  SaveImageTest() { context_.env = folders_.environment(); }

  engine::node_result save(const std::string& prefix, engine::image_ptr images = nullptr) {
    engine::node_inputs inputs;
    inputs.values = {{"images", images ? images : small_image()}, {"filename_prefix", prefix}};
    return run("SaveImage", inputs, context_);
  }

  static engine::image_ptr small_image(int batch = 1) {
    return make_image(batch, 2, 3, 3, [](int b, int, int x, int c) {
      return c == 0 ? 0.5F : (c == 1 ? static_cast<float>(x) / 2.0F : static_cast<float>(b));
    });
  }

  void touch(const fs::path& path) { write_file_atomic(path, "x"); }

  temp_folders folders_;
  test_context context_;
};

TEST_F(SaveImageTest, WritesNumberedFilesAndReportsThem) {
  const auto result = save("ComfyUI", small_image(2));
  const json expected = json::parse(R"({"images": [
      {"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"},
      {"filename": "ComfyUI_00002_.png", "subfolder": "", "type": "output"}]})");
  EXPECT_EQ(result.ui, expected);
  ASSERT_EQ(result.outputs.size(), 1U);
  const auto decoded =
      image::decode_image(read_file(context_.env.output_dir / "ComfyUI_00002_.png"));
  ASSERT_EQ(decoded.image.width, 3);
  ASSERT_EQ(decoded.image.height, 2);
  ASSERT_EQ(decoded.image.channels, 3);
  // clip(255·x) truncated: 0.5 → 127, 1.0 → 255, x/2 for x=1 → 127.
  EXPECT_EQ(decoded.image.pixels[0], 127);
  EXPECT_EQ(decoded.image.pixels[2], 255);
  EXPECT_EQ(decoded.image.pixels[4], 127);
  EXPECT_EQ(decoded.image.pixels[7], 255);
}

TEST_F(SaveImageTest, ContinuesFromTheHighestExistingCounter) {
  const fs::path out = context_.env.output_dir;
  touch(out / "ComfyUI_00007_.png");
  touch(out / "ComfyUI_00003_.png");
  touch(out / "ComfyUI_00012.webp");
  touch(out / "Other_00100_.png");
  touch(out / "ComfyUIx_00200_.png");
  touch(out / "ComfyUI_abc_.png");
  const auto result = save("ComfyUI");
  EXPECT_EQ(result.ui["images"][0]["filename"], "ComfyUI_00013_.png");
}

TEST_F(SaveImageTest, SubfoldersAreCreatedInsideOutput) {
  const auto result = save("sub/dir/pic");
  EXPECT_EQ(result.ui["images"][0]["filename"], "pic_00001_.png");
  EXPECT_EQ(result.ui["images"][0]["subfolder"], "sub/dir");
  EXPECT_TRUE(fs::exists(context_.env.output_dir / "sub/dir/pic_00001_.png"));
  // "a/../b" normalises to "b", which stays inside.
  EXPECT_EQ(save("a/../b").ui["images"][0]["subfolder"], "");
}

TEST_F(SaveImageTest, RefusesFoldersOutsideOutput) {
  for (const std::string prefix : {"../x", "a/../../x", "/tmp/x", "..//..//etc/x"}) {
    SCOPED_TRACE(prefix);
    try {
      save(prefix);
      FAIL() << "saved outside the output folder";
    } catch (const engine::node_error& error) {
      EXPECT_EQ(error.exception_type(), "Exception");
      EXPECT_STREQ(error.what(), "Saving image outside the output folder is not allowed.");
    }
  }
  fs::create_directories(folders_.root() / "elsewhere");
  fs::create_directory_symlink(folders_.root() / "elsewhere", context_.env.output_dir / "link");
  EXPECT_THROW(save("link/x"), engine::node_error);
  EXPECT_TRUE(fs::is_empty(folders_.root() / "elsewhere"));
  EXPECT_THROW(save(std::string("a\0b", 3)), engine::node_error);
}

TEST_F(SaveImageTest, SubstitutesSizeVariables) {
  const auto result = save("img_%width%x%height%");
  EXPECT_EQ(result.ui["images"][0]["filename"], "img_3x2_00001_.png");
  std::tm when{};
  when.tm_year = 126;
  when.tm_mon = 0;
  when.tm_mday = 5;
  when.tm_hour = 7;
  when.tm_min = 8;
  when.tm_sec = 9;
  EXPECT_EQ(
      substitute_save_variables("%year%-%month%-%day% %hour%:%minute%:%second% %x%", 1, 2, when),
      "2026-01-05 07:08:09 %x%");
}

TEST_F(SaveImageTest, BatchNumberInTheName) {
  const auto result = save("shot_%batch_num%", small_image(2));
  EXPECT_EQ(result.ui["images"][0]["filename"], "shot_0_00001_.png");
  EXPECT_EQ(result.ui["images"][1]["filename"], "shot_1_00002_.png");
}

TEST_F(SaveImageTest, WritesPromptAndExtraPngInfoAsText) {
  context_.prompt_value =
      json::parse(R"({"1": {"class_type": "SaveImage", "inputs": {"t": "é"}}})");
  context_.extra_pnginfo_value = json::parse(R"({"workflow": {"nodes": [1, 2.5]}, "other": "v"})");
  save("meta");
  const auto decoded = image::decode_image(read_file(context_.env.output_dir / "meta_00001_.png"));
  ASSERT_EQ(decoded.text_chunks.size(), 3U);
  EXPECT_EQ(decoded.text_chunks[0].keyword, "prompt");
  EXPECT_EQ(decoded.text_chunks[0].text,
            R"({"1": {"class_type": "SaveImage", "inputs": {"t": "\u00e9"}}})");
  EXPECT_EQ(decoded.text_chunks[1].keyword, "workflow");
  EXPECT_EQ(decoded.text_chunks[1].text, R"({"nodes": [1, 2.5]})");
  EXPECT_EQ(decoded.text_chunks[2].keyword, "other");
  EXPECT_EQ(decoded.text_chunks[2].text, R"("v")");
}

TEST_F(SaveImageTest, DisableMetadataWritesNoText) {
  context_.env.disable_metadata = true;
  context_.prompt_value = json::parse(R"({"1": {}})");
  context_.extra_pnginfo_value = json::parse(R"({"workflow": {}})");
  save("plain");
  const auto decoded = image::decode_image(read_file(context_.env.output_dir / "plain_00001_.png"));
  EXPECT_TRUE(decoded.text_chunks.empty());
}

TEST_F(SaveImageTest, InterruptStopsBetweenImages) {
  context_.interrupted = true;
  EXPECT_THROW(save("stop", small_image(3)), engine::interrupted_error);
  EXPECT_TRUE(fs::is_empty(context_.env.output_dir));
}

TEST_F(SaveImageTest, PreviewKeepsItsPrefixPerInstance) {
  auto instance = definition("PreviewImage").create();
  engine::node_inputs inputs;
  inputs.values = {{"images", small_image()}};
  const auto first = instance->execute(inputs, context_);
  const auto second = instance->execute(inputs, context_);
  const std::string a = first.ui["images"][0]["filename"];
  const std::string b = second.ui["images"][0]["filename"];
  const std::regex pattern("ComfyUI_temp_[abcdefghijklmnopqrstuvxyz]{5}_0000([12])_\\.png");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(a, match, pattern)) << a;
  EXPECT_EQ(match[1], "1");
  ASSERT_TRUE(std::regex_match(b, match, pattern)) << b;
  EXPECT_EQ(match[1], "2");
  EXPECT_EQ(a.substr(0, 18), b.substr(0, 18));
  EXPECT_EQ(first.ui["images"][0]["type"], "temp");
  EXPECT_EQ(first.ui["images"][0]["subfolder"], "");
  EXPECT_TRUE(fs::exists(context_.env.temp_dir / a));
}

TEST(PythonNormpath, MatchesPosixpath) {
  EXPECT_EQ(python_normpath(""), ".");
  EXPECT_EQ(python_normpath("a//b/./c/"), "a/b/c");
  EXPECT_EQ(python_normpath("a/../../b"), "../b");
  EXPECT_EQ(python_normpath("/../a"), "/a");
  EXPECT_EQ(python_normpath("//a"), "//a");
  EXPECT_EQ(python_normpath("///a"), "/a");
  EXPECT_EQ(python_normpath("a/.."), ".");
}

TEST(PythonJsonDumps, UsesPythonSeparatorsAndAsciiEscapes) {
  const json value = json::parse(R"({"a": 1, "b": [1.5, 10.0, 1e-05, true, null, "x\"\n\u0001"],
                                     "c": "😀\u007f", "d": 18446744073709551615, "e": {}})");
  EXPECT_EQ(python_json_dumps(value),
            R"({"a": 1, "b": [1.5, 10.0, 1e-05, true, null, "x\"\n\u0001"], )"
            R"("c": "\ud83d\ude00\u007f", "d": 18446744073709551615, "e": {}})");
}

}  // namespace
}  // namespace comfydist::nodes::test
