// ComfyUI's tiled upscaling, float for float: the same tile positions, feather ramps and
// accumulation order as comfy.utils.tiled_scale_multidim, so results match it bit for bit where
// the tile function does.
#include "nodes/upscale/tiled_scale.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace comfydist::nodes {
namespace {

std::string shape_text(const nn::tensor_shape& s) {
  return std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.h) + "x" +
         std::to_string(s.w);
}

// range(0, size - overlap, tile - overlap) when the image is larger than the tile, else [0].
std::vector<int> tile_positions(int size, int tile, int overlap) {
  std::vector<int> positions;
  if (size <= tile) {
    positions.push_back(0);
    return positions;
  }
  for (int p = 0; p < size - overlap; p += tile - overlap) {
    positions.push_back(p);
  }
  return positions;
}

// One image (n = 1) of a batch, copied out.
nn::host_tensor batch_item(const nn::host_tensor& samples, int index) {
  nn::host_tensor item(nn::tensor_shape{1, samples.shape.c, samples.shape.h, samples.shape.w});
  const auto begin = samples.data.begin() + static_cast<std::ptrdiff_t>(item.data.size()) * index;
  std::copy(begin, begin + static_cast<std::ptrdiff_t>(item.data.size()), item.data.begin());
  return item;
}

nn::host_tensor crop(const nn::host_tensor& image, int top, int left, int height, int width) {
  nn::host_tensor out(nn::tensor_shape{1, image.shape.c, height, width});
  float* dst = out.data.data();
  for (int c = 0; c < image.shape.c; ++c) {
    for (int y = 0; y < height; ++y) {
      const float* src =
          image.data.data() +
          (static_cast<std::size_t>(c) * image.shape.h + static_cast<std::size_t>(top + y)) *
              image.shape.w +
          left;
      dst = std::copy(src, src + width, dst);
    }
  }
  return out;
}

void check_tile_result(const nn::host_tensor& result, const nn::tensor_shape& expected) {
  if (!(result.shape == expected) || result.data.size() != expected.elements()) {
    throw std::invalid_argument("the upscale function returned a " + shape_text(result.shape) +
                                " tensor for a tile that needs " + shape_text(expected));
  }
}

// The feather mask of one tile result: ones, with rows and then columns t and len-1-t multiplied
// by (t+1)/feather in the order ComfyUI multiplies them (short tiles get both ramps on the same
// rows, as there).
std::vector<float> feather_mask(int height, int width, int feather) {
  std::vector<float> mask(static_cast<std::size_t>(height) * width, 1.0F);
  const auto row = [&](int y, float a) {
    for (int x = 0; x < width; ++x) {
      mask[static_cast<std::size_t>(y) * width + x] *= a;
    }
  };
  const auto column = [&](int x, float a) {
    for (int y = 0; y < height; ++y) {
      mask[static_cast<std::size_t>(y) * width + x] *= a;
    }
  };
  if (feather < height) {
    for (int t = 0; t < feather; ++t) {
      const auto a = static_cast<float>(static_cast<double>(t + 1) / feather);
      row(t, a);
      row(height - 1 - t, a);
    }
  }
  if (feather < width) {
    for (int t = 0; t < feather; ++t) {
      const auto a = static_cast<float>(static_cast<double>(t + 1) / feather);
      column(t, a);
      column(width - 1 - t, a);
    }
  }
  return mask;
}

// One image through the tiles; the accumulator becomes the result, divided in place, so a large
// output is held twice (sum and weights) rather than three times.
nn::host_tensor tiled_item(const nn::host_tensor& image, const tile_function& fn,
                           const tiled_scale_options& options) {
  const int height = image.shape.h;
  const int width = image.shape.w;
  const double s = options.upscale_amount;
  const int out_h = scaled_size(height, s);
  const int out_w = scaled_size(width, s);
  const std::size_t plane = static_cast<std::size_t>(out_h) * out_w;
  nn::host_tensor result(nn::tensor_shape{1, options.out_channels, out_h, out_w});
  std::vector<float>& out = result.data;
  std::vector<float> out_div(plane, 0.0F);
  const int feather = scaled_size(options.overlap, s);
  for (const int py : tile_positions(height, options.tile_y, options.overlap)) {
    for (const int px : tile_positions(width, options.tile_x, options.overlap)) {
      const int top = std::max(0, std::min(height - options.overlap, py));
      const int left = std::max(0, std::min(width - options.overlap, px));
      const int tile_h = std::min(options.tile_y, height - top);
      const int tile_w = std::min(options.tile_x, width - left);
      const nn::host_tensor ps = fn(crop(image, top, left, tile_h, tile_w));
      const int ps_h = scaled_size(tile_h, s);
      const int ps_w = scaled_size(tile_w, s);
      check_tile_result(ps, nn::tensor_shape{1, options.out_channels, ps_h, ps_w});
      const std::vector<float> mask = feather_mask(ps_h, ps_w, feather);
      // v0.26 clips a tile that overhangs the output through rounding of a fractional scale.
      const int up_y = scaled_size(top, s);
      const int up_x = scaled_size(left, s);
      const int rows = std::min(ps_h, out_h - up_y);
      const int cols = std::min(ps_w, out_w - up_x);
      for (int c = 0; c < options.out_channels; ++c) {
        for (int y = 0; y < rows; ++y) {
          const float* src = ps.data.data() + (static_cast<std::size_t>(c) * ps_h + y) * ps_w;
          const float* m = mask.data() + static_cast<std::size_t>(y) * ps_w;
          float* dst = out.data() + c * plane + static_cast<std::size_t>(up_y + y) * out_w + up_x;
          for (int x = 0; x < cols; ++x) {
            dst[x] += src[x] * m[x];
          }
        }
      }
      for (int y = 0; y < rows; ++y) {
        const float* m = mask.data() + static_cast<std::size_t>(y) * ps_w;
        float* dst = out_div.data() + static_cast<std::size_t>(up_y + y) * out_w + up_x;
        for (int x = 0; x < cols; ++x) {
          dst[x] += m[x];
        }
      }
      if (options.on_tile) {
        options.on_tile();
      }
    }
  }
  for (int c = 0; c < options.out_channels; ++c) {
    for (std::size_t i = 0; i < plane; ++i) {
      out[c * plane + i] /= out_div[i];
    }
  }
  return result;
}

// fn(image) for an image that fits in one tile: no blending.
nn::host_tensor single_tile(const nn::host_tensor& image, const tile_function& fn,
                            const tiled_scale_options& options) {
  nn::host_tensor whole = fn(image);
  check_tile_result(whole, nn::tensor_shape{1, options.out_channels,
                                            scaled_size(image.shape.h, options.upscale_amount),
                                            scaled_size(image.shape.w, options.upscale_amount)});
  if (options.on_tile) {
    options.on_tile();
  }
  return whole;
}

nn::host_tensor scale_item(const nn::host_tensor& image, const tile_function& fn,
                           const tiled_scale_options& options) {
  if (image.shape.h <= options.tile_y && image.shape.w <= options.tile_x) {
    return single_tile(image, fn, options);
  }
  return tiled_item(image, fn, options);
}

}  // namespace

std::int64_t tiled_scale_steps(std::int64_t width, std::int64_t height, int tile_x, int tile_y,
                               int overlap) {
  const auto count = [overlap](std::int64_t size, int tile) -> std::int64_t {
    if (size <= tile) {
      return 1;
    }
    const std::int64_t step = tile - overlap;
    return (size - overlap + step - 1) / step;
  };
  return count(height, tile_y) * count(width, tile_x);
}

int scaled_size(int size, double scale) {
  const double value = std::nearbyint(static_cast<double>(size) * scale);
  if (!(value >= 0.0) || value > static_cast<double>(INT_MAX)) {
    throw std::invalid_argument("an upscaled size of " + std::to_string(size) + " × " +
                                std::to_string(scale) + " is out of range");
  }
  return static_cast<int>(value);
}

nn::host_tensor tiled_scale(const nn::host_tensor& samples, const tile_function& fn,
                            const tiled_scale_options& options) {
  if (options.tile_x <= options.overlap || options.tile_y <= options.overlap ||
      options.overlap < 0 || options.out_channels <= 0 || !(options.upscale_amount > 0.0)) {
    throw std::invalid_argument(
        "tiled_scale needs tiles larger than the overlap, a positive "
        "scale and output channels");
  }
  if (samples.data.size() != samples.shape.elements()) {
    throw std::invalid_argument("tiled_scale: the input holds " +
                                std::to_string(samples.data.size()) + " values for a " +
                                shape_text(samples.shape) + " shape");
  }
  if (samples.shape.n == 1) {
    return scale_item(samples, fn, options);
  }
  const int out_h = scaled_size(samples.shape.h, options.upscale_amount);
  const int out_w = scaled_size(samples.shape.w, options.upscale_amount);
  nn::host_tensor output(nn::tensor_shape{samples.shape.n, options.out_channels, out_h, out_w});
  auto dst = output.data.begin();
  for (int b = 0; b < samples.shape.n; ++b) {
    const nn::host_tensor item = scale_item(batch_item(samples, b), fn, options);
    dst = std::copy(item.data.begin(), item.data.end(), dst);
  }
  return output;
}

int run_with_tile_fallback(int start_tile, int min_tile, const std::function<void(int)>& attempt) {
  int tile = start_tile;
  while (true) {
    try {
      attempt(tile);
      return tile;
    } catch (const std::bad_alloc&) {
      tile /= 2;
      if (tile < min_tile) {
        throw;
      }
    }
  }
}

}  // namespace comfydist::nodes
