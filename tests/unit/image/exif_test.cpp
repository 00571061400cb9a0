// EXIF orientation on decode, checked against PIL's ImageOps.exif_transpose output.
#include <gtest/gtest.h>

#include <string>

#include "fixture_util.hpp"
#include "image/codecs.hpp"

namespace comfydist::image {
namespace {

using test::fixture;

TEST(ExifOrientation, PngOrientationsMatchPillow) {
  for (int orientation = 2; orientation <= 8; ++orientation) {
    const std::string name = "orientation_" + std::to_string(orientation);
    const decoded_image rotated = decode_image(fixture(name + ".png"));
    const decoded_image expected = decode_image(fixture(name + "_expected.png"));
    EXPECT_EQ(rotated.image.width, expected.image.width) << name;
    EXPECT_EQ(rotated.image.height, expected.image.height) << name;
    EXPECT_EQ(rotated.image.channels, expected.image.channels) << name;
    EXPECT_EQ(rotated.image.pixels, expected.image.pixels) << name;
  }
}

TEST(ExifOrientation, JpegApp1RotatesClockwise) {
  // 16x8, left half red and right half blue, orientation 6: upright it is 8x16 with red on top.
  const decoded_image decoded = decode_image(fixture("orientation_6.jpg"));
  ASSERT_EQ(decoded.image.width, 8);
  ASSERT_EQ(decoded.image.height, 16);
  ASSERT_EQ(decoded.image.channels, 3);
  const auto at = [&](int x, int y, int c) {
    return static_cast<int>(decoded.image.pixels[(static_cast<std::size_t>(y) * 8 + x) * 3 + c]);
  };
  EXPECT_GT(at(4, 2, 0), 200);
  EXPECT_LT(at(4, 2, 2), 60);
  EXPECT_LT(at(4, 13, 0), 60);
  EXPECT_GT(at(4, 13, 2), 200);
}

TEST(ExifOrientation, WebpExifChunk) {
  const decoded_image rotated = decode_image(fixture("orientation_3.webp"));
  const decoded_image expected = decode_image(fixture("orientation_3_expected.png"));
  EXPECT_EQ(rotated.image.width, expected.image.width);
  EXPECT_EQ(rotated.image.height, expected.image.height);
  EXPECT_EQ(rotated.image.pixels, expected.image.pixels);
}

}  // namespace
}  // namespace comfydist::image
