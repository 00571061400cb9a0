// LoadImage: decoding, the mask, annotated names, validation, IS_CHANGED, the file list, and the
// refusal of every name that leaves its folder.
#include <gtest/gtest.h>

#include "common/file_io.hpp"
#include "common/sha256.hpp"
#include "image/codecs.hpp"
#include "node_test_util.hpp"

namespace comfydist::nodes::test {
namespace {

class LoadImageTest : public ::testing::Test {
 protected:
  LoadImageTest() { context_.env = folders_.environment(); }

  static std::string png(int channels) {
    image::pixel_image pixels{2, 1, channels, {}};
    for (int i = 0; i < 2 * channels; ++i) {
      pixels.pixels.push_back(static_cast<std::uint8_t>(40 * i + 10));
    }
    return image::encode_png(pixels, 1);
  }

  engine::node_result load(const std::string& name) {
    engine::node_inputs inputs;
    inputs.values = {{"image", name}};
    return run("LoadImage", inputs, context_);
  }

  std::optional<std::string> validate(const json& name) {
    json constants = json::object();
    constants["image"] = name;
    return definition("LoadImage").validate(constants, context_.env);
  }

  temp_folders folders_;
  test_context context_;
};

TEST_F(LoadImageTest, RgbaGivesImageAndOneMinusAlpha) {
  write_file_atomic(context_.env.input_dir / "rgba.png", png(4));
  const auto result = load("rgba.png");
  ASSERT_EQ(result.outputs.size(), 2U);
  const auto image = output_image(result);
  const auto mask = std::get<engine::mask_ptr>(result.outputs[1]);
  ASSERT_EQ(image->batch, 1);
  ASSERT_EQ(image->height, 1);
  ASSERT_EQ(image->width, 2);
  ASSERT_EQ(image->channels, 3);
  // Pixel 0: 10, 50, 90, alpha 130; pixel 1: 170, 210, 250, alpha 290 % 256 = 34.
  EXPECT_FLOAT_EQ(at(*image, 0, 0, 0, 1), 50.0F / 255.0F);
  EXPECT_FLOAT_EQ(at(*image, 0, 0, 1, 2), 250.0F / 255.0F);
  ASSERT_EQ(mask->height, 1);
  ASSERT_EQ(mask->width, 2);
  EXPECT_FLOAT_EQ(mask->data[0], 1.0F - 130.0F / 255.0F);
  EXPECT_FLOAT_EQ(mask->data[1], 1.0F - 34.0F / 255.0F);
}

TEST_F(LoadImageTest, NoAlphaGivesA64By64ZeroMask) {
  write_file_atomic(context_.env.input_dir / "rgb.png", png(3));
  const auto mask = std::get<engine::mask_ptr>(load("rgb.png").outputs[1]);
  EXPECT_EQ(mask->batch, 1);
  EXPECT_EQ(mask->height, 64);
  EXPECT_EQ(mask->width, 64);
  EXPECT_EQ(mask->data, std::vector<float>(64 * 64, 0.0F));
}

TEST_F(LoadImageTest, GrayIsReplicated) {
  write_file_atomic(context_.env.input_dir / "gray.png", png(1));
  const auto image = output_image(load("gray.png"));
  EXPECT_FLOAT_EQ(at(*image, 0, 0, 1, 0), 50.0F / 255.0F);
  EXPECT_FLOAT_EQ(at(*image, 0, 0, 1, 2), 50.0F / 255.0F);
}

TEST_F(LoadImageTest, SubfoldersAndAnnotatedNames) {
  fs::create_directories(context_.env.input_dir / "sub");
  write_file_atomic(context_.env.input_dir / "sub/x.png", png(3));
  write_file_atomic(context_.env.output_dir / "o.png", png(4));
  write_file_atomic(context_.env.temp_dir / "t.png", png(1));
  EXPECT_EQ(validate("sub/x.png"), std::nullopt);
  EXPECT_EQ(validate("o.png [output]"), std::nullopt);
  EXPECT_EQ(validate("t.png [temp]"), std::nullopt);
  EXPECT_EQ(validate("sub/x.png [input]"), std::nullopt);
  EXPECT_EQ(output_image(load("o.png [output]"))->width, 2);
  EXPECT_EQ(output_image(load("sub/x.png"))->width, 2);
  EXPECT_EQ(validate("missing.png"), "Invalid image file: missing.png");
  EXPECT_EQ(validate("sub"), "Invalid image file: sub");
  EXPECT_THROW(load("missing.png"), engine::node_error);
}

TEST_F(LoadImageTest, RefusesNamesThatLeaveTheFolder) {
  write_file_atomic(folders_.root() / "secret.png", png(3));
  fs::create_symlink(folders_.root() / "secret.png", context_.env.input_dir / "link.png");
  fs::create_directory_symlink(folders_.root(), context_.env.input_dir / "up");
  for (const std::string& name :
       {std::string("../secret.png"), std::string("/etc/passwd"), std::string("a\0b", 3),
        std::string("link.png"), std::string("up/secret.png"), std::string("../secret.png [input]"),
        std::string("../../secret.png [output]")}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(validate(name), "Invalid image file: " + name);
    try {
      load(name);
      FAIL() << "read a file outside input/";
    } catch (const engine::node_error& error) {
      EXPECT_EQ(error.exception_type(), "ValueError") << error.what();
    }
    json constants = json::object();
    constants["image"] = name;
    EXPECT_THROW(definition("LoadImage").is_changed(constants, context_.env), engine::node_error);
  }
}

TEST_F(LoadImageTest, IsChangedIsTheFileHash) {
  const std::string bytes = png(3);
  write_file_atomic(context_.env.input_dir / "a.png", bytes);
  json constants = json::object();
  constants["image"] = "a.png";
  EXPECT_EQ(definition("LoadImage").is_changed(constants, context_.env), sha256_hex(bytes));
}

TEST_F(LoadImageTest, CorruptFilesFailClearly) {
  write_file_atomic(context_.env.input_dir / "bad.png", "not an image");
  try {
    load("bad.png");
    FAIL();
  } catch (const engine::node_error& error) {
    EXPECT_NE(std::string(error.what()).find("bad.png"), std::string::npos);
  }
}

TEST_F(LoadImageTest, RefreshListsSortedImagesDirectlyInInput) {
  const fs::path in = context_.env.input_dir;
  write_file_atomic(in / "b.png", "x");
  write_file_atomic(in / "A.JPG", "x");
  write_file_atomic(in / "c.webp", "x");
  write_file_atomic(in / "notes.txt", "x");
  fs::create_directories(in / "dir.png");
  fs::create_directories(in / "sub");
  write_file_atomic(in / "sub/inner.png", "x");
  write_file_atomic(folders_.root() / "outside.png", "x");
  fs::create_symlink(folders_.root() / "outside.png", in / "escape.png");
  json info = definition("LoadImage").info;
  definition("LoadImage").refresh_info(info, context_.env);
  EXPECT_EQ(info["input"]["required"]["image"][0], json::parse(R"(["A.JPG", "b.png", "c.webp"])"));
  EXPECT_EQ(info["input"]["required"]["image"][1], json::parse(R"({"image_upload": true})"));
}

}  // namespace
}  // namespace comfydist::nodes::test
