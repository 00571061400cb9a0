// Encode/decode round trips, text chunks, sniffing, hostile input and PNG layout conversions.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>

#include "fixture_util.hpp"
#include "image/codecs.hpp"

namespace comfydist::image {
namespace {

using test::fixture;

pixel_image gradient(int width, int height, int channels) {
  pixel_image img{width, height, channels, {}};
  img.pixels.resize(img.byte_size());
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        img.pixels[(static_cast<std::size_t>(y) * width + x) * channels + c] =
            static_cast<std::uint8_t>((x * 255 / std::max(1, width - 1) + c * 60 + y * 3) % 256);
      }
    }
  }
  return img;
}

pixel_image smooth(int width, int height, int channels) {
  pixel_image img{width, height, channels, {}};
  img.pixels.resize(img.byte_size());
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        img.pixels[(static_cast<std::size_t>(y) * width + x) * channels + c] =
            static_cast<std::uint8_t>(c == 3 ? 255 - y * 2 : 40 + x * 2 + c * 20 + y);
      }
    }
  }
  return img;
}

int max_difference(const pixel_image& a, const pixel_image& b) {
  int worst = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    worst = std::max(worst, std::abs(int{a.pixels[i]} - int{b.pixels[i]}));
  }
  return worst;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(PngCodec, RoundTripsOneToFourChannels) {
  for (int channels = 1; channels <= 4; ++channels) {
    const pixel_image img = gradient(37, 19, channels);
    for (int level : {0, 1, 4, 9}) {
      const std::string png = encode_png(img, level);
      ASSERT_EQ(sniff_format(as_bytes(png)), image_format::png);
      const decoded_image decoded = decode_image(png);
      EXPECT_EQ(decoded.image.width, 37);
      EXPECT_EQ(decoded.image.height, 19);
      EXPECT_EQ(decoded.image.channels, channels);
      EXPECT_EQ(decoded.has_alpha, channels == 2 || channels == 4);
      EXPECT_EQ(decoded.image.pixels, img.pixels) << "channels " << channels;
      EXPECT_TRUE(decoded.text_chunks.empty());
    }
  }
}

TEST(PngCodec, HigherLevelIsNotLarger) {
  const pixel_image img = smooth(128, 96, 3);
  EXPECT_LT(encode_png(img, 9).size(), encode_png(img, 0).size());
}

TEST(PngCodec, TextChunksComeBackInOrderBeforeIdat) {
  const std::vector<png_text_chunk> chunks = {
      {"prompt", R"({"1": {"inputs": {}}})"}, {"workflow", "{\"nodes\": []}"}, {"empty", ""}};
  const std::string png = encode_png(gradient(8, 8, 3), 4, chunks);

  const std::size_t ihdr = png.find("IHDR");
  const std::size_t prompt = png.find("tEXtprompt");
  const std::size_t workflow = png.find("tEXtworkflow");
  const std::size_t empty = png.find("tEXtempty");
  const std::size_t idat = png.find("IDAT");
  ASSERT_NE(prompt, std::string::npos);
  ASSERT_NE(workflow, std::string::npos);
  ASSERT_NE(empty, std::string::npos);
  EXPECT_EQ(ihdr, 12u);
  EXPECT_EQ(prompt, 33u + 4u);  // directly after IHDR, after the length field
  EXPECT_LT(prompt, workflow);
  EXPECT_LT(workflow, empty);
  EXPECT_LT(empty, idat);
  EXPECT_NE(png.find(std::string("prompt\0{\"1\"", 11)), std::string::npos);

  const decoded_image decoded = decode_image(png);
  ASSERT_EQ(decoded.text_chunks.size(), 3u);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(decoded.text_chunks[i].keyword, chunks[i].keyword);
    EXPECT_EQ(decoded.text_chunks[i].text, chunks[i].text);
  }
}

TEST(PngCodec, NonLatin1TextBecomesItxtAndLatin1StaysText) {
  const std::vector<png_text_chunk> chunks = {{"latin", "caf\xc3\xa9"},
                                              {"snow", "\xe2\x98\x83 man"}};
  const std::string png = encode_png(gradient(2, 2, 1), 4, chunks);
  EXPECT_NE(png.find(std::string("tEXtlatin\0caf\xe9", 14)), std::string::npos);
  EXPECT_NE(png.find("iTXtsnow"), std::string::npos);
  const decoded_image decoded = decode_image(png);
  ASSERT_EQ(decoded.text_chunks.size(), 2u);
  EXPECT_EQ(decoded.text_chunks[0].text, "caf\xc3\xa9");
  EXPECT_EQ(decoded.text_chunks[1].text, "\xe2\x98\x83 man");
}

TEST(PngCodec, RejectsBadArguments) {
  EXPECT_THROW(encode_png(gradient(2, 2, 5), 4), std::invalid_argument);
  EXPECT_THROW(encode_png(pixel_image{}, 4), std::invalid_argument);
  EXPECT_THROW(encode_png(gradient(2, 2, 3), 10), std::invalid_argument);
  EXPECT_THROW(encode_png(gradient(2, 2, 3), 4, {{"", "x"}}), std::invalid_argument);
  EXPECT_THROW(encode_png(gradient(2, 2, 3), 4, {{std::string(80, 'k'), "x"}}),
               std::invalid_argument);
  EXPECT_THROW(encode_png(gradient(2, 2, 3), 4, {{"k", std::string("a\0b", 3)}}),
               std::invalid_argument);
  pixel_image short_buffer = gradient(4, 4, 3);
  short_buffer.pixels.pop_back();
  EXPECT_THROW(encode_png(short_buffer, 4), std::invalid_argument);
}

TEST(PngCodec, SixteenBitKeepsHighByte) {
  const decoded_image decoded = decode_image(fixture("rgb16.png"));
  EXPECT_EQ(decoded.image.channels, 3);
  EXPECT_FALSE(decoded.has_alpha);
  EXPECT_EQ(decoded.image.pixels, (std::vector<std::uint8_t>{0x12, 0xab, 0xff, 0x00, 0x80, 0xff}));
}

TEST(PngCodec, LowBitDepthGrayIsScaled) {
  const decoded_image decoded = decode_image(fixture("gray2.png"));
  EXPECT_EQ(decoded.image.channels, 1);
  EXPECT_EQ(decoded.image.pixels, (std::vector<std::uint8_t>{0, 85, 170, 255}));
}

TEST(PngCodec, TransparencyBecomesAlpha) {
  const decoded_image gray = decode_image(fixture("gray_trns.png"));
  EXPECT_EQ(gray.image.channels, 2);
  EXPECT_TRUE(gray.has_alpha);
  EXPECT_EQ(gray.image.pixels, (std::vector<std::uint8_t>{7, 255, 9, 0}));

  const decoded_image palette = decode_image(fixture("palette_trns.png"));
  EXPECT_EQ(palette.image.channels, 4);
  EXPECT_TRUE(palette.has_alpha);
  EXPECT_EQ(palette.image.pixels, (std::vector<std::uint8_t>{10, 20, 30, 128, 40, 50, 60, 255}));
}

TEST(PngCodec, ReadsCompressedInternationalAndLateText) {
  const decoded_image decoded = decode_image(fixture("text_chunks.png"));
  ASSERT_EQ(decoded.text_chunks.size(), 3u);
  EXPECT_EQ(decoded.text_chunks[0].keyword, "ztitle");
  EXPECT_EQ(decoded.text_chunks[0].text, "compressed text");
  EXPECT_EQ(decoded.text_chunks[1].keyword, "ititle");
  EXPECT_EQ(decoded.text_chunks[1].text, "h\xc3\xa9llo \xe2\x98\x83");
  EXPECT_EQ(decoded.text_chunks[2].keyword, "late");
  EXPECT_EQ(decoded.text_chunks[2].text, "after idat");
}

TEST(JpegCodec, RoundTripWithinTolerance) {
  const pixel_image rgb = smooth(64, 48, 3);
  const std::string jpeg = encode_jpeg(rgb, 95);
  EXPECT_EQ(sniff_format(as_bytes(jpeg)), image_format::jpeg);
  const decoded_image decoded = decode_image(jpeg);
  ASSERT_EQ(decoded.image.channels, 3);
  ASSERT_EQ(decoded.image.width, 64);
  ASSERT_EQ(decoded.image.height, 48);
  EXPECT_FALSE(decoded.has_alpha);
  EXPECT_LE(max_difference(decoded.image, rgb), 6);
}

TEST(JpegCodec, GrayAndAlphaInputs) {
  const pixel_image gray = smooth(32, 16, 1);
  const decoded_image decoded_gray = decode_image(encode_jpeg(gray, 95));
  ASSERT_EQ(decoded_gray.image.channels, 1);
  EXPECT_LE(max_difference(decoded_gray.image, gray), 4);

  const decoded_image from_ga = decode_image(encode_jpeg(smooth(32, 16, 2), 95));
  EXPECT_EQ(from_ga.image.channels, 1);

  const pixel_image rgba = smooth(32, 16, 4);
  const decoded_image from_rgba = decode_image(encode_jpeg(rgba, 95));
  ASSERT_EQ(from_rgba.image.channels, 3);
  for (std::size_t i = 0; i < 32u * 16u; ++i) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(from_rgba.image.pixels[i * 3 + c], rgba.pixels[i * 4 + c], 6);
    }
  }
}

TEST(JpegCodec, LowerQualityIsSmaller) {
  const pixel_image img = gradient(64, 64, 3);
  EXPECT_LT(encode_jpeg(img, 20).size(), encode_jpeg(img, 95).size());
  EXPECT_THROW(encode_jpeg(img, 0), std::invalid_argument);
  EXPECT_THROW(encode_jpeg(img, 101), std::invalid_argument);
}

TEST(JpegCodec, CmykIsConvertedLikePillow) {
  const decoded_image decoded = decode_image(fixture("cmyk.jpg"));
  ASSERT_EQ(decoded.image.channels, 3);
  // Pillow 9.4 decodes cmyk.jpg to this colour (see generate_fixtures.py, "cmyk_rgb").
  const std::size_t center = (4 * 8 + 4) * 3;
  EXPECT_NEAR(decoded.image.pixels[center], 207, 2);
  EXPECT_NEAR(decoded.image.pixels[center + 1], 154, 2);
  EXPECT_NEAR(decoded.image.pixels[center + 2], 101, 2);
}

TEST(WebpCodec, RoundTripWithinTolerance) {
  for (int channels : {1, 2, 3, 4}) {
    const pixel_image img = smooth(40, 30, channels);
    const std::string webp = encode_webp(img, 95);
    EXPECT_EQ(sniff_format(as_bytes(webp)), image_format::webp);
    const decoded_image decoded = decode_image(webp);
    const bool alpha = channels == 2 || channels == 4;
    ASSERT_EQ(decoded.image.channels, alpha ? 4 : 3);
    EXPECT_EQ(decoded.has_alpha, alpha);
    ASSERT_EQ(decoded.image.width, 40);
    ASSERT_EQ(decoded.image.height, 30);
    for (std::size_t i = 0; i < 40u * 30u; ++i) {
      const int gray_or_red = img.pixels[i * channels];
      EXPECT_NEAR(decoded.image.pixels[i * decoded.image.channels], gray_or_red, 8);
      if (alpha) {
        EXPECT_NEAR(decoded.image.pixels[i * 4 + 3], img.pixels[i * channels + channels - 1], 2);
      }
    }
  }
}

TEST(WebpCodec, AnimatedGivesFirstFrame) {
  const decoded_image decoded = decode_image(fixture("animated.webp"));
  ASSERT_EQ(decoded.image.width, 6);
  ASSERT_EQ(decoded.image.height, 4);
  ASSERT_GE(decoded.image.channels, 3);
  for (std::size_t i = 0; i < 24; ++i) {
    EXPECT_EQ(decoded.image.pixels[i * decoded.image.channels], 255);
    EXPECT_EQ(decoded.image.pixels[i * decoded.image.channels + 1], 0);
  }
}

TEST(Sniffing, RecognisesMagicNumbers) {
  EXPECT_EQ(sniff_format(as_bytes(std::string("\x89PNG\r\n\x1a\n", 8))), image_format::png);
  EXPECT_EQ(sniff_format(as_bytes("\xff\xd8\xff\xe0")), image_format::jpeg);
  EXPECT_EQ(sniff_format(as_bytes("RIFF\x10\0\0\0WEBPVP8 ")), image_format::unknown);
  EXPECT_EQ(sniff_format(as_bytes(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16))), image_format::webp);
  EXPECT_EQ(sniff_format(as_bytes("GIF89a")), image_format::unknown);
  EXPECT_EQ(sniff_format(as_bytes("")), image_format::unknown);
  EXPECT_EQ(sniff_format(as_bytes("\x89PNG")), image_format::unknown);
}

TEST(HostileInput, EmptyAndUnknownAreRejected) {
  EXPECT_THROW(decode_image(std::string()), std::invalid_argument);
  EXPECT_THROW(decode_image(std::string("hello world")), std::invalid_argument);
  try {
    decode_image(std::string("GIF89a...."));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "not a PNG, JPEG or WebP image");
  }
}

TEST(HostileInput, TruncatedFilesAreRejected) {
  const std::vector<std::string> files = {encode_png(gradient(64, 64, 3), 4),
                                          encode_jpeg(gradient(64, 64, 3), 90),
                                          encode_webp(gradient(64, 64, 3), 90)};
  for (const std::string& file : files) {
    for (std::size_t keep : {file.size() / 2, file.size() / 4, std::size_t{20}, std::size_t{12}}) {
      EXPECT_THROW(decode_image(file.substr(0, keep)), std::invalid_argument)
          << "kept " << keep << " of " << file.size();
    }
  }
}

TEST(HostileInput, CorruptPngMessageNamesTheProblem) {
  std::string png = encode_png(gradient(16, 16, 3), 4);
  png[30] ^= 0x55;  // IHDR CRC
  try {
    decode_image(png);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("corrupt PNG: ", 0), 0u) << e.what();
  }
}

TEST(HostileInput, RandomAndMutatedBytesNeverCrash) {
  std::mt19937 rng(42);
  const std::vector<std::string> seeds = {encode_png(gradient(24, 24, 4), 4, {{"k", "v"}}),
                                          encode_jpeg(gradient(24, 24, 3), 80),
                                          encode_webp(gradient(24, 24, 4), 80),
                                          fixture("orientation_6.jpg"),
                                          fixture("animated.webp"),
                                          fixture("text_chunks.png")};
  int decoded = 0;
  int rejected = 0;
  for (const std::string& seed : seeds) {
    for (int round = 0; round < 150; ++round) {
      std::string data = seed;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < flips; ++i) {
        data[rng() % data.size()] = static_cast<char>(rng());
      }
      try {
        const decoded_image img = decode_image(data);
        EXPECT_EQ(img.image.pixels.size(), img.image.byte_size());
        ++decoded;
      } catch (const std::invalid_argument&) {
        ++rejected;
      }
    }
  }
  for (int round = 0; round < 200; ++round) {
    std::string data(rng() % 200, '\0');
    for (char& c : data) {
      c = static_cast<char>(rng());
    }
    const char* prefixes[] = {"\x89PNG\r\n\x1a\n", "\xff\xd8\xff", "RIFF\xff\0\0\0WEBP"};
    const std::string prefix = prefixes[round % 3];
    data.insert(0, prefix, 0, round % 3 == 2 ? 12 : prefix.size());
    try {
      decode_image(data);
      ++decoded;
    } catch (const std::invalid_argument&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GE(decoded + rejected, 1100);
}

TEST(DecodeLimits, RefusesLargeImagesBeforeDecoding) {
  const decode_limits limits{.max_pixels = 100 * 100 - 1};
  EXPECT_THROW(decode_image(encode_png(gradient(100, 100, 3), 1), limits), std::invalid_argument);
  EXPECT_THROW(decode_image(encode_jpeg(gradient(100, 100, 3), 80), limits), std::invalid_argument);
  EXPECT_THROW(decode_image(encode_webp(gradient(100, 100, 3), 80), limits), std::invalid_argument);
  const decode_limits enough{.max_pixels = 100 * 100};
  EXPECT_NO_THROW(decode_image(encode_png(gradient(100, 100, 3), 1), enough));
  EXPECT_NO_THROW(decode_image(encode_jpeg(gradient(100, 100, 3), 80), enough));
  EXPECT_NO_THROW(decode_image(encode_webp(gradient(100, 100, 3), 80), enough));
}

TEST(DecodeLimits, HugeDeclaredSizeIsRefusedWithoutAllocation) {
  // A valid PNG header declaring 100000x100000 pixels followed by nothing.
  std::string png = encode_png(gradient(1, 1, 3), 1);
  const char huge[8] = {0, 0x01, static_cast<char>(0x86), static_cast<char>(0xa0),
                        0, 0x01, static_cast<char>(0x86), static_cast<char>(0xa0)};
  png.replace(16, 8, huge, 8);
  EXPECT_THROW(decode_image(png), std::invalid_argument);
}

}  // namespace
}  // namespace comfydist::image
