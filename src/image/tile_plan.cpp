// Tile positions for distributed tiled upscaling: validation of the options and the row-major
// grid of full-size tiles.
#include "image/tile_plan.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace comfydist::image {
namespace {

void check_options(int width, int height, const tile_options& o, std::size_t max_output_pixels) {
  const auto refuse = [](const std::string& sentence) { throw std::invalid_argument(sentence); };
  if (o.tile < 8 || o.tile > 4096) {
    refuse("tile " + std::to_string(o.tile) + " must be between 8 and 4096 pixels");
  }
  if (o.overlap < 0) {
    refuse("overlap " + std::to_string(o.overlap) + " must not be negative");
  }
  if (o.overlap >= o.tile) {
    refuse("overlap " + std::to_string(o.overlap) + " must be smaller than the tile " +
           std::to_string(o.tile));
  }
  if (o.tile < 2 * o.overlap) {
    refuse("tile " + std::to_string(o.tile) + " must be at least twice the overlap " +
           std::to_string(o.overlap));
  }
  if (o.scale < 1 || o.scale > 16) {
    refuse("scale " + std::to_string(o.scale) + " must be between 1 and 16");
  }
  // A 1-pixel side has nothing to blend across and is almost always a wrong input, not a picture.
  if (width < 2 || height < 2) {
    refuse("a " + std::to_string(width) + "x" + std::to_string(height) +
           " image is too small to tile: both sides must be at least 2 pixels");
  }
  // 64-bit arithmetic: width, height ≤ INT_MAX and scale ≤ 16 cannot overflow it.
  const std::uint64_t output_pixels = static_cast<std::uint64_t>(width) *
                                      static_cast<std::uint64_t>(height) *
                                      static_cast<std::uint64_t>(o.scale * o.scale);
  if (output_pixels > max_output_pixels) {
    refuse("a " + std::to_string(width) + "x" + std::to_string(height) + " image at x" +
           std::to_string(o.scale) + " gives " + std::to_string(output_pixels) +
           " output pixels, more than the limit of " + std::to_string(max_output_pixels));
  }
}

// Start positions along one dimension: steps of tile - overlap while a full tile still fits
// short of the edge, then one tile ending exactly at the edge.
std::vector<int> positions(int size, int tile, int overlap) {
  if (size <= tile) {
    return {0};
  }
  std::vector<int> starts;
  const int step = tile - overlap;
  for (int p = 0; p + tile < size; p += step) {
    starts.push_back(p);
  }
  starts.push_back(size - tile);
  return starts;
}

}  // namespace

tile_plan plan_tiles(int width, int height, const tile_options& options,
                     std::size_t max_output_pixels) {
  check_options(width, height, options, max_output_pixels);
  tile_plan plan;
  plan.input_width = width;
  plan.input_height = height;
  plan.scale = options.scale;
  plan.options = options;
  const std::vector<int> xs = positions(width, options.tile, options.overlap);
  const std::vector<int> ys = positions(height, options.tile, options.overlap);
  plan.tiles.reserve(xs.size() * ys.size());
  for (const int y : ys) {
    for (const int x : xs) {
      tile_rect r;
      r.index = static_cast<int>(plan.tiles.size());
      r.x = x;
      r.y = y;
      r.width = std::min(options.tile, width);
      r.height = std::min(options.tile, height);
      plan.tiles.push_back(r);
    }
  }
  return plan;
}

}  // namespace comfydist::image
