// tiled_scale against hand-computed blends and untiled runs, its step count, the tile-halving loop
// and interrupts between tiles.
#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <vector>

#include "nodes/upscale/tiled_scale.hpp"

namespace comfydist::nodes {
namespace {

nn::host_tensor make_tensor(int n, int c, int h, int w, float (*f)(int, int, int, int)) {
  nn::host_tensor t(nn::tensor_shape{n, c, h, w});
  std::size_t i = 0;
  for (int b = 0; b < n; ++b) {
    for (int ci = 0; ci < c; ++ci) {
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          t.data[i++] = f(b, ci, y, x);
        }
      }
    }
  }
  return t;
}

float pattern(int b, int c, int y, int x) {
  return static_cast<float>((b * 7 + c * 13 + y * 31 + x * 17) % 101) / 100.0F;
}

// Every tile of the i-th call filled with i + 1, at the given scale.
tile_function constant_per_tile(int scale, int* calls, std::vector<nn::tensor_shape>* shapes) {
  return [=](const nn::host_tensor& tile) {
    if (shapes != nullptr) {
      shapes->push_back(tile.shape);
    }
    ++*calls;
    return nn::host_tensor(
        nn::tensor_shape{1, tile.shape.c, tile.shape.h * scale, tile.shape.w * scale},
        static_cast<float>(*calls));
  };
}

// Nearest-neighbour upscaling by `scale`, a model whose result does not depend on the tiling.
nn::host_tensor nearest(const nn::host_tensor& in, int scale) {
  nn::host_tensor out(
      nn::tensor_shape{in.shape.n, in.shape.c, in.shape.h * scale, in.shape.w * scale});
  for (int b = 0; b < in.shape.n; ++b) {
    for (int c = 0; c < in.shape.c; ++c) {
      for (int y = 0; y < out.shape.h; ++y) {
        for (int x = 0; x < out.shape.w; ++x) {
          out.data[((static_cast<std::size_t>(b) * in.shape.c + c) * out.shape.h + y) *
                       out.shape.w +
                   x] =
              in.data[((static_cast<std::size_t>(b) * in.shape.c + c) * in.shape.h + y / scale) *
                          in.shape.w +
                      x / scale];
        }
      }
    }
  }
  return out;
}

tiled_scale_options options_for(int tile, int overlap, double scale, int channels) {
  tiled_scale_options options;
  options.tile_x = tile;
  options.tile_y = tile;
  options.overlap = overlap;
  options.upscale_amount = scale;
  options.out_channels = channels;
  return options;
}

TEST(TiledScale, StepsFollowComfyUI) {
  EXPECT_EQ(tiled_scale_steps(1, 1, 512, 512, 32), 1);
  EXPECT_EQ(tiled_scale_steps(512, 512, 512, 512, 32), 1);
  EXPECT_EQ(tiled_scale_steps(513, 512, 512, 512, 32), 2);
  EXPECT_EQ(tiled_scale_steps(513, 513, 512, 512, 32), 4);
  // Columns at 0, 480, 960 (< 1000 - 32); rows at 0, 480.
  EXPECT_EQ(tiled_scale_steps(1000, 600, 512, 512, 32), 6);
  EXPECT_EQ(tiled_scale_steps(600, 600, 256, 256, 32), 9);
  EXPECT_EQ(tiled_scale_steps(2048, 2048, 128, 128, 32), 21 * 21);
}

TEST(TiledScale, ScaledSizeRoundsHalfToEven) {
  EXPECT_EQ(scaled_size(5, 4.0), 20);
  EXPECT_EQ(scaled_size(5, 0.5), 2);
  EXPECT_EQ(scaled_size(7, 0.5), 4);
  EXPECT_THROW(scaled_size(1 << 30, 4.0), std::invalid_argument);
}

// W = 8, tile 5, overlap 3: tiles at 0, 2, 4 of lengths 5, 5, 4; feather 3 at both ends of each,
// image borders included: masks [1/3 2/3 1 2/3 1/3] and [1/3 2/3 2/3 1/3].
TEST(TiledScale, BlendsLikeComfyUIByHand) {
  int calls = 0;
  std::vector<nn::tensor_shape> shapes;
  const nn::host_tensor in(nn::tensor_shape{1, 1, 1, 8});
  tiled_scale_options options = options_for(5, 3, 1.0, 1);
  const nn::host_tensor out = tiled_scale(in, constant_per_tile(1, &calls, &shapes), options);
  ASSERT_EQ(calls, 3);
  EXPECT_EQ(shapes[0].w, 5);
  EXPECT_EQ(shapes[1].w, 5);
  EXPECT_EQ(shapes[2].w, 4);
  const std::vector<float> expected{1, 1, 1.25F, 1.5F, 2, 2.5F, 8.0F / 3, 3};
  ASSERT_EQ(out.data.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(out.data[i], expected[i], 1e-6) << "column " << i;
  }
}

// W = 6, tile 4, overlap 2 at 2×: tile results of 8 at output offsets 0 and 4, feather 4: masks
// [.25 .5 .75 1 1 .75 .5 .25].
TEST(TiledScale, BlendsUpscaledTilesByHand) {
  int calls = 0;
  const nn::host_tensor in(nn::tensor_shape{1, 1, 1, 6});
  const nn::host_tensor out =
      tiled_scale(in, constant_per_tile(2, &calls, nullptr), options_for(4, 2, 2.0, 1));
  ASSERT_EQ(calls, 2);
  ASSERT_EQ(out.shape, (nn::tensor_shape{1, 1, 2, 12}));
  const std::vector<float> row{1, 1, 1, 1, 1.2F, 1.4F, 1.6F, 1.8F, 2, 2, 2, 2};
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 12; ++x) {
      EXPECT_NEAR(out.data[static_cast<std::size_t>(y) * 12 + x], row[x], 1e-6) << x;
    }
  }
}

// 6×6, tile 4, overlap 2: pixel (2, 2) lies in all four tiles with weights 1, .5, .5, .25 (the
// 2-D mask is the product of the row and column ramps).
TEST(TiledScale, TwoDimensionalMaskIsTheProductOfRamps) {
  int calls = 0;
  const nn::host_tensor in(nn::tensor_shape{1, 1, 6, 6});
  const nn::host_tensor out =
      tiled_scale(in, constant_per_tile(1, &calls, nullptr), options_for(4, 2, 1.0, 1));
  ASSERT_EQ(calls, 4);
  EXPECT_NEAR(out.data[2 * 6 + 2], (1 * 1 + 2 * .5 + 3 * .5 + 4 * .25) / 2.25, 1e-6);
  EXPECT_FLOAT_EQ(out.data[0], 1.0F);  // only the first tile covers the corner
  EXPECT_FLOAT_EQ(out.data[6 * 6 - 1], 4.0F);
}

TEST(TiledScale, ImageWithinOneTileIsPassedWhole) {
  int calls = 0;
  std::vector<nn::tensor_shape> shapes;
  const nn::host_tensor in = make_tensor(1, 3, 300, 512, pattern);
  const nn::host_tensor out =
      tiled_scale(in, constant_per_tile(4, &calls, &shapes), options_for(512, 32, 4.0, 3));
  ASSERT_EQ(calls, 1);
  EXPECT_EQ(shapes[0], in.shape);
  EXPECT_EQ(out.shape, (nn::tensor_shape{1, 3, 1200, 2048}));
}

TEST(TiledScale, PointwiseFunctionEqualsUntiledRun) {
  const nn::host_tensor in = make_tensor(2, 3, 70, 101, pattern);
  const tile_function affine = [](const nn::host_tensor& tile) {
    nn::host_tensor out = tile;
    for (float& v : out.data) {
      v = v * 0.5F + 0.25F;
    }
    return out;
  };
  int tiles = 0;
  tiled_scale_options options = options_for(32, 8, 1.0, 3);
  options.on_tile = [&] { ++tiles; };
  const nn::host_tensor out = tiled_scale(in, affine, options);
  EXPECT_EQ(tiles, 2 * tiled_scale_steps(101, 70, 32, 32, 8));
  const nn::host_tensor untiled = affine(in);
  ASSERT_EQ(out.shape, untiled.shape);
  for (std::size_t i = 0; i < out.data.size(); ++i) {
    ASSERT_NEAR(out.data[i], untiled.data[i], 1e-6) << i;
  }
}

TEST(TiledScale, NearestUpscaleEqualsUntiledRun) {
  const nn::host_tensor in = make_tensor(1, 3, 600, 530, pattern);
  int tiles = 0;
  tiled_scale_options options = options_for(512, 32, 2.0, 3);
  options.on_tile = [&] { ++tiles; };
  const nn::host_tensor out = tiled_scale(
      in, [](const nn::host_tensor& t) { return nearest(t, 2); }, options);
  EXPECT_EQ(tiles, 4);
  const nn::host_tensor untiled = nearest(in, 2);
  ASSERT_EQ(out.shape, untiled.shape);
  for (std::size_t i = 0; i < out.data.size(); ++i) {
    ASSERT_NEAR(out.data[i], untiled.data[i], 1e-6) << i;
  }
}

TEST(TiledScale, ProgressCountMatchesSteps) {
  for (const auto& [h, w] : {std::pair{1, 1}, {512, 512}, {513, 100}, {600, 1000}, {33, 70}}) {
    for (const int tile : {512, 256, 128}) {
      int tiles = 0;
      int calls = 0;
      tiled_scale_options options = options_for(tile, 32, 1.0, 1);
      options.on_tile = [&] { ++tiles; };
      tiled_scale(nn::host_tensor(nn::tensor_shape{1, 1, h, w}),
                  constant_per_tile(1, &calls, nullptr), options);
      EXPECT_EQ(tiles, tiled_scale_steps(w, h, tile, tile, 32)) << h << "x" << w << " " << tile;
      EXPECT_EQ(calls, tiles);
    }
  }
}

TEST(TiledScale, InterruptStopsBetweenTiles) {
  int calls = 0;
  int tiles = 0;
  tiled_scale_options options = options_for(128, 32, 1.0, 1);
  options.on_tile = [&] {
    if (++tiles == 2) {
      throw std::runtime_error("interrupted");
    }
  };
  EXPECT_THROW(tiled_scale(nn::host_tensor(nn::tensor_shape{1, 1, 400, 400}),
                           constant_per_tile(1, &calls, nullptr), options),
               std::runtime_error);
  EXPECT_EQ(calls, 2);
}

TEST(TiledScale, RefusesResultsOfTheWrongShape) {
  const tile_function wrong = [](const nn::host_tensor& tile) {
    return nn::host_tensor(nn::tensor_shape{1, 3, tile.shape.h * 2, tile.shape.w * 2});
  };
  EXPECT_THROW(tiled_scale(nn::host_tensor(nn::tensor_shape{1, 3, 10, 10}), wrong,
                           options_for(512, 32, 4.0, 3)),
               std::invalid_argument);
  EXPECT_THROW(tiled_scale(nn::host_tensor(nn::tensor_shape{1, 3, 600, 10}), wrong,
                           options_for(512, 32, 4.0, 3)),
               std::invalid_argument);
  EXPECT_THROW(tiled_scale(nn::host_tensor(nn::tensor_shape{1, 3, 10, 10}), wrong,
                           options_for(32, 32, 2.0, 3)),
               std::invalid_argument);
}

// A function that runs out of memory above 256-pixel tiles: 512 fails, 256 succeeds, and the
// result still equals the untiled one.
TEST(TileFallback, HalvesTheTileOnBadAlloc) {
  const nn::host_tensor in = make_tensor(1, 3, 600, 300, pattern);
  std::vector<int> tried;
  std::vector<int> progress_totals;
  nn::host_tensor out;
  const tile_function limited = [](const nn::host_tensor& tile) {
    if (tile.shape.h > 256 || tile.shape.w > 256) {
      throw std::bad_alloc();
    }
    return nearest(tile, 2);
  };
  const int used = run_with_tile_fallback(512, 128, [&](int tile) {
    tried.push_back(tile);
    progress_totals.push_back(static_cast<int>(tiled_scale_steps(300, 600, tile, tile, 32)));
    out = tiled_scale(in, limited, options_for(tile, 32, 2.0, 3));
  });
  EXPECT_EQ(used, 256);
  EXPECT_EQ(tried, (std::vector<int>{512, 256}));
  EXPECT_EQ(progress_totals, (std::vector<int>{2, 6}));
  const nn::host_tensor untiled = nearest(in, 2);
  ASSERT_EQ(out.shape, untiled.shape);
  for (std::size_t i = 0; i < out.data.size(); ++i) {
    ASSERT_NEAR(out.data[i], untiled.data[i], 1e-6);
  }
}

TEST(TileFallback, GivesUpBelowTheSmallestTile) {
  std::vector<int> tried;
  EXPECT_THROW(run_with_tile_fallback(512, 128,
                                      [&](int tile) {
                                        tried.push_back(tile);
                                        throw std::bad_alloc();
                                      }),
               std::bad_alloc);
  EXPECT_EQ(tried, (std::vector<int>{512, 256, 128}));
}

TEST(TileFallback, OtherErrorsAreNotRetried) {
  int attempts = 0;
  EXPECT_THROW(run_with_tile_fallback(512, 128,
                                      [&](int) {
                                        ++attempts;
                                        throw std::invalid_argument("bad model");
                                      }),
               std::invalid_argument);
  EXPECT_EQ(attempts, 1);
}

}  // namespace
}  // namespace comfydist::nodes
