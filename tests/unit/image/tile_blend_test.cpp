// The tile planner and the feather blender of distributed tiled upscaling: coverage, refusals,
// exact reconstruction, order independence to the bit, restarts and the band memory bound.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/file_io.hpp"
#include "image/feather_blender.hpp"
#include "image/tile_plan.hpp"

namespace comfydist::image {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A smooth, non-constant picture in [0, 1], so a misplaced or misweighted tile shows.
float pattern(int x, int y, int c) {
  return 0.5F + 0.45F * static_cast<float>(std::sin(0.013 * x + 0.7 * c) * std::cos(0.021 * y));
}

// What an ideal upscaler returns for tile `index`: the pattern sampled at its output pixels.
template <typename F>
std::vector<float> make_tile(const tile_plan& plan, int index, F value) {
  const tile_rect& r = plan.tiles[static_cast<std::size_t>(index)];
  const int w = r.width * plan.scale;
  const int h = r.height * plan.scale;
  std::vector<float> out(static_cast<std::size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        out[(static_cast<std::size_t>(y) * w + x) * 3 + c] =
            value(r.x * plan.scale + x, r.y * plan.scale + y, c);
      }
    }
  }
  return out;
}

template <typename F>
void add_tile(feather_blender& blender, const tile_plan& plan, int index, F value) {
  const tile_rect& r = plan.tiles[static_cast<std::size_t>(index)];
  const std::vector<float> rgb = make_tile(plan, index, value);
  ASSERT_TRUE(blender.add(index, rgb, r.width * plan.scale, r.height * plan.scale));
}

std::vector<float> blend_all(feather_blender& blender, const tile_plan& plan, int band_rows = 0) {
  std::vector<float> out(static_cast<std::size_t>(plan.output_width()) * plan.output_height() * 3);
  int next_row = 0;
  blender.finish(
      [&](int y0, int rows, std::span<const float> rgb) {
        EXPECT_EQ(y0, next_row);
        EXPECT_EQ(rgb.size(), static_cast<std::size_t>(rows) * plan.output_width() * 3);
        std::copy(rgb.begin(), rgb.end(),
                  out.begin() + static_cast<std::ptrdiff_t>(y0) * plan.output_width() * 3);
        next_row = y0 + rows;
      },
      band_rows);
  EXPECT_EQ(next_row, plan.output_height());
  return out;
}

void expect_bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

std::string plan_error(int width, int height, const tile_options& options,
                       std::size_t max_pixels = default_max_output_pixels) {
  try {
    plan_tiles(width, height, options, max_pixels);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

tile_options opts(int tile, int overlap, int scale, feather_kind feather = feather_kind::linear) {
  tile_options o;
  o.tile = tile;
  o.overlap = overlap;
  o.scale = scale;
  o.feather = feather;
  return o;
}

class TileBlend : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("comfydist_tile_blend_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST(TilePlan, PlacesFullTilesWithTheLastShiftedToTheEdge) {
  const tile_plan plan = plan_tiles(1000, 300, opts(256, 32, 4));
  std::vector<int> xs;
  std::vector<int> ys;
  for (const tile_rect& r : plan.tiles) {
    if (r.y == 0) {
      xs.push_back(r.x);
    }
    if (r.x == 0) {
      ys.push_back(r.y);
    }
    EXPECT_EQ(r.width, 256);
    EXPECT_EQ(r.height, 256);
  }
  EXPECT_EQ(xs, (std::vector<int>{0, 224, 448, 672, 744}));
  EXPECT_EQ(ys, (std::vector<int>{0, 44}));
  EXPECT_EQ(plan.tiles.size(), 10U);
  EXPECT_EQ(plan.output_width(), 4000);
  EXPECT_EQ(plan.output_height(), 1200);
}

TEST(TilePlan, ADimensionSmallerThanATileIsOneTileSpanningIt) {
  const tile_plan plan = plan_tiles(100, 40, opts(512, 64, 4));
  ASSERT_EQ(plan.tiles.size(), 1U);
  EXPECT_EQ(plan.tiles[0].x, 0);
  EXPECT_EQ(plan.tiles[0].width, 100);
  EXPECT_EQ(plan.tiles[0].height, 40);
}

TEST(TilePlan, CoversEveryPixelWithTheAskedOverlapDeterministically) {
  struct shape {
    int w, h, tile, overlap;
  };
  for (const shape s : {shape{1000, 700, 256, 32}, shape{512, 512, 256, 0},
                        shape{257, 1031, 128, 64}, shape{600, 90, 64, 8}, shape{2, 2, 8, 0}}) {
    const tile_plan plan = plan_tiles(s.w, s.h, opts(s.tile, s.overlap, 1));
    const tile_plan again = plan_tiles(s.w, s.h, opts(s.tile, s.overlap, 1));
    ASSERT_EQ(plan.tiles.size(), again.tiles.size());
    std::vector<int> covered(static_cast<std::size_t>(s.w) * s.h, 0);
    for (std::size_t i = 0; i < plan.tiles.size(); ++i) {
      const tile_rect& r = plan.tiles[i];
      EXPECT_EQ(r.index, static_cast<int>(i));
      EXPECT_EQ(r.x, again.tiles[i].x);
      EXPECT_EQ(r.y, again.tiles[i].y);
      ASSERT_GE(r.x, 0);
      ASSERT_GE(r.y, 0);
      ASSERT_LE(r.x + r.width, s.w);
      ASSERT_LE(r.y + r.height, s.h);
      EXPECT_EQ(r.width, std::min(s.tile, s.w));
      EXPECT_EQ(r.height, std::min(s.tile, s.h));
      for (int y = r.y; y < r.y + r.height; ++y) {
        for (int x = r.x; x < r.x + r.width; ++x) {
          ++covered[static_cast<std::size_t>(y) * s.w + x];
        }
      }
      // The right and lower neighbours share at least the overlap.
      if (i + 1 < plan.tiles.size() && plan.tiles[i + 1].y == r.y) {
        EXPECT_GE(r.x + r.width - plan.tiles[i + 1].x, s.overlap);
        EXPECT_GT(plan.tiles[i + 1].x, r.x);
      }
    }
    EXPECT_EQ(std::count(covered.begin(), covered.end(), 0), 0) << s.w << "x" << s.h;
  }
}

TEST(TilePlan, RefusesBadInputWithASentence) {
  EXPECT_EQ(plan_error(1000, 1000, opts(100, 64, 4)),
            "tile 100 must be at least twice the overlap 64");
  EXPECT_THAT(plan_error(1000, 1000, opts(256, -1, 4)), HasSubstr("must not be negative"));
  EXPECT_THAT(plan_error(1000, 1000, opts(64, 64, 4)),
              HasSubstr("overlap 64 must be smaller than the tile 64"));
  EXPECT_THAT(plan_error(1000, 1000, opts(4, 0, 4)), HasSubstr("between 8 and 4096"));
  EXPECT_THAT(plan_error(1000, 1000, opts(5000, 0, 4)), HasSubstr("between 8 and 4096"));
  EXPECT_THAT(plan_error(1000, 1000, opts(256, 32, 0)), HasSubstr("scale 0"));
  EXPECT_THAT(plan_error(1000, 1000, opts(256, 32, 17)), HasSubstr("scale 17"));
  EXPECT_EQ(plan_error(1, 1, opts(256, 32, 4)),
            "a 1x1 image is too small to tile: both sides must be at least 2 pixels");
  EXPECT_THAT(plan_error(1, 500, opts(256, 32, 4)), HasSubstr("too small to tile"));
  EXPECT_THAT(plan_error(0, 0, opts(256, 32, 4)), HasSubstr("too small to tile"));
  EXPECT_EQ(plan_error(4096, 4096, opts(512, 64, 4)), "accepted");
  EXPECT_THAT(plan_error(4097, 4096, opts(512, 64, 4)),
              HasSubstr("more than the limit of 268435456"));
  EXPECT_THAT(plan_error(101, 100, opts(64, 8, 2), 40000), HasSubstr("40400 output pixels"));
  EXPECT_EQ(plan_error(100, 100, opts(64, 8, 2), 40000), "accepted");
}

TEST_F(TileBlend, AConstantImageStaysConstant) {
  for (const feather_kind kind : {feather_kind::linear, feather_kind::cosine}) {
    const tile_plan plan = plan_tiles(150, 97, opts(40, 12, 2, kind));
    for (const float value : {0.5F, 0.3F, 1.0F}) {
      feather_blender blender(plan, dir_);
      for (std::size_t i = 0; i < plan.tiles.size(); ++i) {
        add_tile(blender, plan, static_cast<int>(i), [&](int, int, int) { return value; });
      }
      for (const float v : blend_all(blender, plan)) {
        ASSERT_NEAR(v, value, 1e-6);
      }
    }
  }
}

TEST_F(TileBlend, TilesCutFromAnImageGiveItBack) {
  for (const feather_kind kind : {feather_kind::linear, feather_kind::cosine}) {
    const tile_plan plan = plan_tiles(301, 203, opts(64, 16, 1, kind));
    for (const bool on_disk : {true, false}) {
      feather_blender blender(plan, on_disk ? dir_ : fs::path());
      for (std::size_t i = 0; i < plan.tiles.size(); ++i) {
        add_tile(blender, plan, static_cast<int>(i), pattern);
      }
      const std::vector<float> out = blend_all(blender, plan);
      double worst = 0;
      for (int y = 0; y < plan.output_height(); ++y) {
        for (int x = 0; x < plan.output_width(); ++x) {
          for (int c = 0; c < 3; ++c) {
            const float v = out[(static_cast<std::size_t>(y) * plan.output_width() + x) * 3 + c];
            worst = std::max(worst, static_cast<double>(std::abs(v - pattern(x, y, c))));
          }
        }
      }
      EXPECT_LE(worst, 1e-6) << (on_disk ? "disk" : "memory");
    }
  }
}

TEST_F(TileBlend, AnyArrivalOrderGivesTheSameBits) {
  // Noise, not a smooth pattern: the overlap sums differ in their last bits with the order.
  const tile_plan plan = plan_tiles(230, 170, opts(48, 20, 2, feather_kind::cosine));
  const auto noise = [](int x, int y, int c) {
    std::uint32_t h = static_cast<std::uint32_t>(x) * 73856093U ^
                      static_cast<std::uint32_t>(y) * 19349663U ^
                      static_cast<std::uint32_t>(c) * 83492791U;
    h ^= h >> 13;
    h *= 0x5bd1e995U;
    return static_cast<float>(h >> 8) / 16777216.0F;
  };
  std::vector<int> order(plan.tiles.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = static_cast<int>(i);
  }
  std::vector<float> first;
  std::mt19937 rng(20240611);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    feather_blender blender(plan, dir_);
    for (const int index : order) {
      add_tile(blender, plan, index, noise);
    }
    const std::vector<float> out = blend_all(blender, plan, round == 0 ? 0 : 7 * round);
    if (round == 0) {
      first = out;
    } else {
      expect_bits_equal(out, first);
    }
  }
  // Kept in memory instead, the same bits again.
  std::reverse(order.begin(), order.end());
  feather_blender in_memory(plan, fs::path());
  for (const int index : order) {
    add_tile(in_memory, plan, index, noise);
  }
  expect_bits_equal(blend_all(in_memory, plan), first);
}

TEST_F(TileBlend, ReopenResumesFromTheStoredTiles) {
  const tile_plan plan = plan_tiles(200, 130, opts(64, 16, 2));
  std::vector<float> reference;
  {
    feather_blender blender(plan, fs::path());
    for (std::size_t i = 0; i < plan.tiles.size(); ++i) {
      add_tile(blender, plan, static_cast<int>(i), pattern);
    }
    reference = blend_all(blender, plan);
  }
  const int count = static_cast<int>(plan.tiles.size());
  {
    feather_blender blender(plan, dir_);
    for (int i = 0; i < count; i += 2) {
      add_tile(blender, plan, i, pattern);
    }
  }  // the master "restarts"
  // A crash mid-write leaves a temporary; a damaged tile file is one to redo.
  write_file_atomic(dir_ / ".tile-000001.f32.0123abcd.tmp", "partial");
  write_file_atomic(dir_ / "tile-000002.f32", "short");

  feather_blender resumed = feather_blender::reopen(plan, dir_);
  EXPECT_FALSE(fs::exists(dir_ / ".tile-000001.f32.0123abcd.tmp"));
  std::vector<int> expected_missing;
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(resumed.has(i), i % 2 == 0 && i != 2) << i;
    if (i % 2 == 1 || i == 2) {
      expected_missing.push_back(i);
    }
  }
  EXPECT_EQ(resumed.missing(), expected_missing);
  EXPECT_FALSE(resumed.complete());
  for (const int i : expected_missing) {
    add_tile(resumed, plan, i, pattern);
  }
  EXPECT_TRUE(resumed.complete());
  expect_bits_equal(blend_all(resumed, plan), reference);

  // Another plan's directory, or none, cannot be resumed.
  const tile_plan other = plan_tiles(200, 130, opts(64, 8, 2));
  EXPECT_THROW(feather_blender::reopen(other, dir_), std::invalid_argument);
  EXPECT_THROW(feather_blender::reopen(plan, dir_ / "nothing"), std::invalid_argument);
  // A fresh job in the same directory starts empty.
  feather_blender fresh(plan, dir_);
  EXPECT_EQ(fresh.missing().size(), plan.tiles.size());
}

TEST_F(TileBlend, RefusesWrongTilesAndKeepsTheFirstResult) {
  const tile_plan plan = plan_tiles(300, 300, opts(64, 16, 4));
  feather_blender blender(plan, dir_);
  const std::vector<float> small(100 * 100 * 3, 0.5F);
  try {
    blender.add(3, small, 100, 100);
    ADD_FAILURE() << "a 100x100 tile was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "tile 3 is 100x100, expected 256x256");
  }
  const std::vector<float> short_data(256 * 256 * 3 - 1, 0.5F);
  EXPECT_THROW(blender.add(3, short_data, 256, 256), std::invalid_argument);
  const std::vector<float> ones(256 * 256 * 3, 1.0F);
  EXPECT_THROW(blender.add(-1, ones, 256, 256), std::invalid_argument);
  EXPECT_THROW(blender.add(static_cast<int>(plan.tiles.size()), ones, 256, 256),
               std::invalid_argument);
  EXPECT_FALSE(blender.has(3));

  try {
    blender.finish([](int, int, std::span<const float>) {});
    ADD_FAILURE() << "an incomplete plan was blended";
  } catch (const std::logic_error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("36 of 36 tiles are missing (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...)"));
  }

  // Every tile 1.0, then a retried tile 0 returning 0.0: the first result stays.
  for (std::size_t i = 0; i < plan.tiles.size(); ++i) {
    ASSERT_TRUE(blender.add(static_cast<int>(i), ones, 256, 256));
  }
  const std::vector<float> zeros(256 * 256 * 3, 0.0F);
  EXPECT_FALSE(blender.add(0, zeros, 256, 256));
  EXPECT_TRUE(blender.complete());
  for (const float v : blend_all(blender, plan)) {
    ASSERT_EQ(v, 1.0F);
  }
}

// Two tiles overlapping by exactly the overlap: left tile all 0, right tile all 1, so the output
// across the seam is the right tile's normalised weight.
TEST_F(TileBlend, LinearAndCosineRampsHaveTheirShape) {
  for (const int scale : {1, 2}) {
    for (const feather_kind kind : {feather_kind::linear, feather_kind::cosine}) {
      const tile_plan plan = plan_tiles(24, 8, opts(16, 8, scale, kind));
      ASSERT_EQ(plan.tiles.size(), 2U);
      ASSERT_EQ(plan.tiles[1].x, 8);
      feather_blender blender(plan, fs::path());
      add_tile(blender, plan, 0, [](int, int, int) { return 0.0F; });
      add_tile(blender, plan, 1, [](int, int, int) { return 1.0F; });
      const std::vector<float> out = blend_all(blender, plan);
      const int feather = 8 * scale;
      const int seam = 8 * scale;
      for (int y = 0; y < plan.output_height(); ++y) {
        for (int x = 0; x < plan.output_width(); ++x) {
          const float v = out[(static_cast<std::size_t>(y) * plan.output_width() + x) * 3 + 1];
          double want = x < seam ? 0.0 : 1.0;
          if (x >= seam && x < seam + feather) {
            const double u = (x - seam + 0.5) / feather;
            want = kind == feather_kind::linear ? u : 0.5 - 0.5 * std::cos(std::numbers::pi * u);
          }
          ASSERT_NEAR(v, want, 1e-6) << "x " << x << " scale " << scale;
        }
      }
      // The cosine ramp starts flatter than the linear one and is steeper in the middle.
      const float near_edge = out[static_cast<std::size_t>(seam) * 3];
      if (kind == feather_kind::cosine) {
        EXPECT_LT(near_edge, 0.5 / feather);
      } else {
        EXPECT_FLOAT_EQ(near_edge, static_cast<float>(0.5 / feather));
      }
    }
  }
}

// 4096×4096 output from 81 tiles of 512×512 (1024² input at ×4, tile 128, overlap 16), spilled
// to disk and streamed in bands: the blender's own buffers peak at the documented bound, far
// below a whole-image canvas, and the output is still right.
TEST_F(TileBlend, BandStreamingStaysWithinTheDocumentedBound) {
  const tile_plan plan = plan_tiles(1024, 1024, opts(128, 16, 4));
  ASSERT_EQ(plan.tiles.size(), 81U);
  feather_blender blender(plan, dir_);
  for (std::size_t i = 0; i < plan.tiles.size(); ++i) {
    add_tile(blender, plan, static_cast<int>(i), pattern);
  }
  EXPECT_EQ(blender.peak_buffer_bytes(), 0U);  // tiles went straight to disk

  const std::size_t canvas = std::size_t{4096} * 4096 * 4 * sizeof(float);
  for (const int band_rows : {0, 128}) {
    const std::size_t bound = feather_blender::band_buffer_bound(plan, band_rows);
    const std::size_t rows = band_rows == 0 ? 512 : 128;
    EXPECT_EQ(bound, sizeof(float) * (rows * 4096 * 4 + rows * 512 * 3 + 512 + 512));
    double worst = 0;
    int bands = 0;
    blender.finish(
        [&](int y0, int n, std::span<const float> rgb) {
          ++bands;
          for (int y = 0; y < n; y += 37) {
            for (int x = 0; x < 4096; ++x) {
              const float v = rgb[(static_cast<std::size_t>(y) * 4096 + x) * 3 + 2];
              worst = std::max(worst, static_cast<double>(std::abs(v - pattern(x, y0 + y, 2))));
            }
          }
        },
        band_rows);
    EXPECT_EQ(bands, 4096 / static_cast<int>(rows));
    EXPECT_LE(worst, 1e-6);
    if (band_rows == 0) {
      EXPECT_EQ(blender.peak_buffer_bytes(), bound);  // 36.7 MB for the 512-row bands
    }
    EXPECT_LE(blender.peak_buffer_bytes(), feather_blender::band_buffer_bound(plan, 0));
    EXPECT_LT(bound * 7, canvas);
  }
}

TEST(TilePixels, EightBitRoundTripAndComfyTruncation) {
  pixel_image gray;
  gray.width = 3;
  gray.height = 1;
  gray.channels = 1;
  gray.pixels = {0, 128, 255};
  const std::vector<float> rgb = from_rgb8(gray);
  ASSERT_EQ(rgb.size(), 9U);
  EXPECT_EQ(rgb[3], rgb[5]);
  EXPECT_EQ(to_rgb8(rgb, 3, 1).pixels,
            (std::vector<std::uint8_t>{0, 0, 0, 128, 128, 128, 255, 255, 255}));
  const std::vector<float> odd = {0.999F, -0.5F, 2.0F, std::nanf(""), 0.5F, 0.0F};
  EXPECT_EQ(to_rgb8(odd, 2, 1).pixels, (std::vector<std::uint8_t>{254, 0, 255, 0, 127, 0}));
  EXPECT_THROW(to_rgb8(odd, 3, 1), std::invalid_argument);
}

}  // namespace
}  // namespace comfydist::image
