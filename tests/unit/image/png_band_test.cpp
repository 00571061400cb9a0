// The multi-threaded band encoder: lossless, standard PNG, text chunks kept, any band count.
#include <gtest/gtest.h>

#include "image/codecs.hpp"
#include "image/png_band_encoder.hpp"

namespace comfydist::image {
namespace {

pixel_image gradient(int width, int height, int channels) {
  pixel_image img;
  img.width = width;
  img.height = height;
  img.channels = channels;
  img.pixels.resize(img.byte_size());
  std::uint32_t state = 7;
  for (std::size_t i = 0; i < img.pixels.size(); ++i) {
    state = state * 1103515245U + 12345U;
    img.pixels[i] = static_cast<std::uint8_t>((i / 7) + ((state >> 28) & 3));
  }
  return img;
}

TEST(PngBandEncoder, RoundTripsForEveryBandCountAndChannelCount) {
  for (int channels = 1; channels <= 4; ++channels) {
    for (const int threads : {1, 2, 3, 8}) {
      const pixel_image img = gradient(301, 157, channels);
      const std::string png = detail::encode_png_bands(img, 4, "", threads);
      const decoded_image back = decode_image(png);
      ASSERT_EQ(back.image.width, 301);
      ASSERT_EQ(back.image.height, 157);
      ASSERT_EQ(back.image.channels, channels);
      EXPECT_EQ(back.image.pixels, img.pixels) << channels << " channels, " << threads << " bands";
    }
  }
}

TEST(PngBandEncoder, BigImagesUseItThroughEncodePngWithTextChunks) {
  const pixel_image img = gradient(1024, 600, 3);  // 1.8 MB: the banded path
  const std::string png = encode_png(img, 4, {{"prompt", "{\"1\": {}}"}, {"workflow", "{}"}});
  const decoded_image back = decode_image(png);
  EXPECT_EQ(back.image.pixels, img.pixels);
  ASSERT_EQ(back.text_chunks.size(), 2U);
  EXPECT_EQ(back.text_chunks[0].keyword, "prompt");
  EXPECT_EQ(back.text_chunks[1].text, "{}");
  // The text chunks come right after IHDR (8-byte signature + 25-byte IHDR chunk).
  EXPECT_EQ(png.substr(33 + 4, 4), "tEXt");
}

TEST(PngBandEncoder, LevelZeroAndNine) {
  const pixel_image img = gradient(64, 64, 3);
  for (const int level : {0, 9}) {
    EXPECT_EQ(decode_image(detail::encode_png_bands(img, level, "", 2)).image.pixels, img.pixels);
  }
}

}  // namespace
}  // namespace comfydist::image
