// PNG files written row by row, and copied with text chunks added: the pixels and text read back,
// and nothing half-written is left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "common/file_io.hpp"
#include "image/codecs.hpp"
#include "image/png_background_writer.hpp"
#include "image/png_files.hpp"

namespace comfydist::image {
namespace {
namespace fs = std::filesystem;

pixel_image noise(int width, int height, int channels) {
  pixel_image img;
  img.width = width;
  img.height = height;
  img.channels = channels;
  img.pixels.resize(img.byte_size());
  std::mt19937 rng(7);
  for (auto& p : img.pixels) {
    p = static_cast<std::uint8_t>(rng() & 0xff);
  }
  return img;
}

class PngFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("png-files-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

const std::vector<png_text_chunk> kText = {{"prompt", "{\"1\": {}}"},
                                           {"workflow", "caf\xc3\xa9 \xe2\x9c\x93"}};

TEST_F(PngFiles, RowsWrittenInUnevenBandsReadBackWithTheirText) {
  const pixel_image img = noise(301, 203, 3);
  {
    png_stream_writer png(dir_ / "out.png", img.width, img.height, 3, 4, kText);
    const std::size_t row = 301 * 3;
    const std::span<const std::uint8_t> all(img.pixels);
    png.write_rows(all.subspan(0, 7 * row));
    png.write_rows(all.subspan(7 * row, 150 * row));
    png.write_rows(all.subspan(157 * row));
    png.finish();
  }
  const std::string bytes = read_file(dir_ / "out.png");
  const decoded_image back = decode_image(bytes);
  EXPECT_EQ(back.image.width, 301);
  EXPECT_EQ(back.image.height, 203);
  EXPECT_EQ(back.image.pixels, img.pixels);
  ASSERT_EQ(back.text_chunks.size(), 2U);
  EXPECT_EQ(back.text_chunks[0].keyword, "prompt");
  EXPECT_EQ(back.text_chunks[0].text, kText[0].text);
  EXPECT_EQ(back.text_chunks[1].text, kText[1].text);  // not Latin-1: iTXt
  EXPECT_EQ(bytes.substr(bytes.size() - 8, 4), "IEND");
  EXPECT_FALSE(fs::exists(dir_ / "out.png.part"));
  const png_size size = read_png_size(dir_ / "out.png");
  EXPECT_EQ(size.width, 301);
  EXPECT_EQ(size.height, 203);
}

TEST_F(PngFiles, AnUnfinishedOrMisfedWriterLeavesNoFile) {
  {
    png_stream_writer png(dir_ / "half.png", 10, 10, 3, 1);
    const std::vector<std::uint8_t> rows(30 * 4, 9);
    png.write_rows(rows);
    EXPECT_THROW(png.write_rows(std::vector<std::uint8_t>(31, 0)), std::invalid_argument);
    EXPECT_THROW(png.write_rows(std::vector<std::uint8_t>(30 * 7, 0)), std::invalid_argument);
    EXPECT_THROW(png.finish(), std::logic_error);
  }
  EXPECT_FALSE(fs::exists(dir_ / "half.png"));
  EXPECT_FALSE(fs::exists(dir_ / "half.png.part"));
  EXPECT_THROW(png_stream_writer(dir_ / "x.png", 0, 10, 3, 1), std::invalid_argument);
  EXPECT_THROW(png_stream_writer(dir_ / "x.png", 10, 10, 5, 1), std::invalid_argument);
  EXPECT_THROW(png_stream_writer(dir_ / "x.png", 10, 10, 3, 1, {{"", "no keyword"}}),
               std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir_ / "x.png.part"));
  EXPECT_THROW(png_stream_writer(dir_ / "no-such-dir" / "x.png", 10, 10, 3, 1), std::runtime_error);
}

TEST_F(PngFiles, CopyAddsTextAndKeepsThePixels) {
  const pixel_image img = noise(64, 40, 4);
  write_file_atomic(dir_ / "in.png", encode_png(img, 1, {{"Software", "x"}}));
  copy_png_with_text(dir_ / "in.png", dir_ / "copy.png", kText);
  const decoded_image back = decode_image(read_file(dir_ / "copy.png"));
  EXPECT_EQ(back.image.pixels, img.pixels);
  ASSERT_EQ(back.text_chunks.size(), 3U);
  EXPECT_EQ(back.text_chunks[0].keyword, "prompt");  // right after IHDR, before the old ones
  EXPECT_EQ(back.text_chunks[2].keyword, "Software");
  EXPECT_EQ(read_png_size(dir_ / "copy.png").width, 64);

  write_file_atomic(dir_ / "not.png", std::string("GIF89a and more bytes than a header has"));
  EXPECT_THROW(copy_png_with_text(dir_ / "not.png", dir_ / "out.png", kText),
               std::invalid_argument);
  EXPECT_THROW((void)read_png_size(dir_ / "not.png"), std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir_ / "out.png"));
  EXPECT_FALSE(fs::exists(dir_ / "out.png.part"));
}

TEST_F(PngFiles, BandsWrittenOnTheBackgroundThreadGiveTheSameFile) {
  const pixel_image img = noise(128, 97, 3);
  const std::size_t row = 128 * 3;
  {
    png_stream_writer png(dir_ / "bg.png", 128, 97, 3, 4, kText);
    png_background_writer writer(png);
    for (std::size_t y = 0; y < 97; y += 10) {
      const std::size_t rows = std::min<std::size_t>(10, 97 - y);
      writer.push(
          std::vector<std::uint8_t>(img.pixels.begin() + static_cast<long>(y * row),
                                    img.pixels.begin() + static_cast<long>((y + rows) * row)));
    }
    writer.finish();
  }
  EXPECT_EQ(decode_image(read_file(dir_ / "bg.png")).image.pixels, img.pixels);

  // A band the writer refuses: the error comes back to the producer, and no file is left.
  {
    png_stream_writer png(dir_ / "bad.png", 128, 97, 3, 4);
    png_background_writer writer(png);
    writer.push(std::vector<std::uint8_t>(row + 1, 0));
    EXPECT_ANY_THROW({
      for (int i = 0; i < 4; ++i) {
        writer.push(std::vector<std::uint8_t>(row, 0));
      }
      writer.finish();
    });
  }
  EXPECT_FALSE(fs::exists(dir_ / "bad.png"));
  EXPECT_FALSE(fs::exists(dir_ / "bad.png.part"));
}

}  // namespace
}  // namespace comfydist::image
