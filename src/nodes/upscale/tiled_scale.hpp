// ComfyUI's comfy.utils.tiled_scale (2-D tiled_scale_multidim) and the tile-halving loop of
// ImageUpscaleWithModel, over any tile function, so they can be tested without a network.
#pragma once

#include <cstdint>
#include <functional>

#include "nn/host_tensor.hpp"

namespace comfydist::nodes {

// Upscales one 1×C×h×w tile to 1×out_channels×round(h·s)×round(w·s).
using tile_function = std::function<nn::host_tensor(const nn::host_tensor& tile)>;

struct tiled_scale_options {
  int tile_x = 64;
  int tile_y = 64;
  int overlap = 8;
  double upscale_amount = 4.0;
  int out_channels = 3;
  // pbar.update(1): called after every tile; may throw (an interrupt) to stop between tiles.
  std::function<void()> on_tile;
};

// comfy.utils.get_tiled_scale_steps: the number of tiles tiled_scale visits for one image.
std::int64_t tiled_scale_steps(std::int64_t width, std::int64_t height, int tile_x, int tile_y,
                               int overlap);

// Python's round() (half to even) of size × scale, as ComfyUI sizes the output.
int scaled_size(int size, double scale);

// comfy.utils.tiled_scale for every image of an N×C×H×W batch: an image that fits in one tile is
// fn(image); otherwise tiles start at range(0, size - overlap, tile - overlap) per dimension (the
// last tile is shorter), each result is weighted by a linear ramp of round(overlap·s) pixels at
// both ends of each dimension (image borders included) and the weighted sum is normalised.
// Throws std::invalid_argument when fn returns a tensor of another shape.
nn::host_tensor tiled_scale(const nn::host_tensor& samples, const tile_function& fn,
                            const tiled_scale_options& options);

// ImageUpscaleWithModel's out-of-memory loop: runs attempt(tile) with tile = start_tile, then
// halves the tile while attempt throws std::bad_alloc; once the halved tile is below min_tile the
// last std::bad_alloc propagates. Other exceptions propagate at once. Returns the tile size that
// succeeded.
int run_with_tile_fallback(int start_tile, int min_tile, const std::function<void(int)>& attempt);

}  // namespace comfydist::nodes
