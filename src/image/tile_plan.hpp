// The tile planner of distributed tiled upscaling: where the master cuts one input image into
// overlapping tiles, so that every worker's unit and the blender agree on the same rectangles.
#pragma once

#include <cstddef>
#include <vector>

namespace comfydist::image {

// The shape of a tile's weight across an overlap (see feather_blender.hpp).
enum class feather_kind { linear, cosine };

struct tile_options {
  int tile = 512;    // tile side, in input pixels
  int overlap = 64;  // in input pixels, between neighbouring tiles
  int scale = 4;     // the model's integer scale factor
  feather_kind feather = feather_kind::linear;
};

struct tile_rect {
  int index = 0;  // row-major position in the plan; the blender's fixed accumulation order
  int x = 0;      // in input pixels
  int y = 0;
  int width = 0;
  int height = 0;
};

struct tile_plan {
  int input_width = 0;
  int input_height = 0;
  int scale = 1;
  std::vector<tile_rect> tiles;  // tiles[i].index == i
  tile_options options;

  int output_width() const { return input_width * scale; }
  int output_height() const { return input_height * scale; }
};

// The default refuses outputs past 16384×16384, the decoders' own limit.
inline constexpr std::size_t default_max_output_pixels = std::size_t{16384} * 16384;

// Cuts a width×height image into tiles of options.tile with at least options.overlap shared
// pixels between neighbours, row by row. The last tile of each row and column is shifted back to
// end at the image edge (its overlap with the previous one grows) so every tile is full-size; a
// dimension no larger than a tile gets one tile spanning it. The same arguments always give the
// same plan.
//
// Throws std::invalid_argument with a sentence naming the problem when the tile is outside
// [8, 4096], the overlap is negative or not smaller than the tile, the tile is smaller than twice
// the overlap (the two feather ramps of a middle tile would cross), the scale is outside [1, 16],
// a side of the image is shorter than 2 pixels, or the output would exceed max_output_pixels.
tile_plan plan_tiles(int width, int height, const tile_options& options,
                     std::size_t max_output_pixels = default_max_output_pixels);

}  // namespace comfydist::image
