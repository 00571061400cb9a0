// PyTorch F.interpolate arithmetic (nearest-exact, bilinear, area, bicubic; align_corners=False,
// no antialias) on interleaved float images, and the dispatch to Pillow-style lanczos.
#include "image/resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "image/lanczos.hpp"

namespace comfydist::image {

namespace {

// area_pixel_compute_scale<float> without a scale_factor: in/out in float.
float torch_scale(int in_size, int out_size) {
  return static_cast<float>(in_size) / static_cast<float>(out_size);
}

std::vector<int> nearest_exact_indices(int in_size, int out_size) {
  const float scale = torch_scale(in_size, out_size);
  std::vector<int> indices(static_cast<std::size_t>(out_size));
  for (int i = 0; i < out_size; ++i) {
    const auto src = static_cast<float>((i + 0.5) * static_cast<double>(scale));
    indices[i] = std::min(static_cast<int>(std::floor(src)), in_size - 1);
  }
  return indices;
}

struct linear_tap {
  int i0;
  int i1;
  float w0;
  float w1;
};

// compute_source_index_and_lambda + guard_index_and_lambda.
std::vector<linear_tap> linear_taps(int in_size, int out_size) {
  const float scale = torch_scale(in_size, out_size);
  std::vector<linear_tap> taps(static_cast<std::size_t>(out_size));
  for (int i = 0; i < out_size; ++i) {
    const float real = std::max(scale * (static_cast<float>(i) + 0.5f) - 0.5f, 0.0f);
    const int i0 = std::min(static_cast<int>(std::floor(real)), in_size - 1);
    const float lambda = std::clamp(real - static_cast<float>(i0), 0.0f, 1.0f);
    taps[i] = {i0, i0 + (i0 < in_size - 1 ? 1 : 0), 1.0f - lambda, lambda};
  }
  return taps;
}

struct cubic_tap {
  int index[4];
  float weight[4];
};

// get_cubic_upsample_coefficients with A = -0.75; the source index is not clamped, the taps are.
std::vector<cubic_tap> cubic_taps(int in_size, int out_size) {
  constexpr float a = -0.75f;
  const auto conv1 = [](float x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };
  const auto conv2 = [](float x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };
  const float scale = torch_scale(in_size, out_size);
  std::vector<cubic_tap> taps(static_cast<std::size_t>(out_size));
  for (int i = 0; i < out_size; ++i) {
    const float real = scale * (static_cast<float>(i) + 0.5f) - 0.5f;
    const int floor_index = std::min(static_cast<int>(std::floor(real)), in_size - 1);
    const float t = std::clamp(real - static_cast<float>(floor_index), 0.0f, 1.0f);
    cubic_tap& tap = taps[i];
    tap.weight[0] = conv2(t + 1.0f);
    tap.weight[1] = conv1(t);
    tap.weight[2] = conv1(1.0f - t);
    tap.weight[3] = conv2(2.0f - t);
    for (int k = 0; k < 4; ++k) {
      tap.index[k] = std::clamp(floor_index - 1 + k, 0, in_size - 1);
    }
  }
  return taps;
}

std::vector<float> nearest_exact(const float* src, int height, int width, int channels,
                                 int new_height, int new_width) {
  const std::vector<int> ys = nearest_exact_indices(height, new_height);
  const std::vector<int> xs = nearest_exact_indices(width, new_width);
  std::vector<float> out(static_cast<std::size_t>(new_height) * new_width * channels);
  float* dst = out.data();
  for (int oy = 0; oy < new_height; ++oy) {
    const float* row = src + static_cast<std::size_t>(ys[oy]) * width * channels;
    for (int ox = 0; ox < new_width; ++ox) {
      dst = std::copy_n(row + static_cast<std::size_t>(xs[ox]) * channels, channels, dst);
    }
  }
  return out;
}

std::vector<float> bilinear(const float* src, int height, int width, int channels, int new_height,
                            int new_width) {
  const std::vector<linear_tap> ys = linear_taps(height, new_height);
  const std::vector<linear_tap> xs = linear_taps(width, new_width);
  const std::size_t stride = static_cast<std::size_t>(width) * channels;
  std::vector<float> out(static_cast<std::size_t>(new_height) * new_width * channels);
  float* dst = out.data();
  for (const linear_tap& y : ys) {
    const float* r0 = src + y.i0 * stride;
    const float* r1 = src + y.i1 * stride;
    for (const linear_tap& x : xs) {
      // cpu_upsample_linear_channels_last: products of the lambdas, summed in this order.
      const float w00 = y.w0 * x.w0;
      const float w01 = y.w0 * x.w1;
      const float w10 = y.w1 * x.w0;
      const float w11 = y.w1 * x.w1;
      const std::size_t c0 = static_cast<std::size_t>(x.i0) * channels;
      const std::size_t c1 = static_cast<std::size_t>(x.i1) * channels;
      for (int c = 0; c < channels; ++c) {
        *dst++ = w00 * r0[c0 + c] + w01 * r0[c1 + c] + w10 * r1[c0 + c] + w11 * r1[c1 + c];
      }
    }
  }
  return out;
}

std::vector<float> area(const float* src, int height, int width, int channels, int new_height,
                        int new_width) {
  std::vector<float> out(static_cast<std::size_t>(new_height) * new_width * channels);
  std::vector<float> sum(static_cast<std::size_t>(channels));
  float* dst = out.data();
  for (int oy = 0; oy < new_height; ++oy) {
    const int y0 = static_cast<int>(static_cast<std::int64_t>(oy) * height / new_height);
    const int y1 = static_cast<int>((static_cast<std::int64_t>(oy + 1) * height + new_height - 1) /
                                    new_height);
    for (int ox = 0; ox < new_width; ++ox) {
      const int x0 = static_cast<int>(static_cast<std::int64_t>(ox) * width / new_width);
      const int x1 =
          static_cast<int>((static_cast<std::int64_t>(ox + 1) * width + new_width - 1) / new_width);
      std::fill(sum.begin(), sum.end(), 0.0f);
      for (int y = y0; y < y1; ++y) {
        const float* p = src + (static_cast<std::size_t>(y) * width + x0) * channels;
        for (int x = x0; x < x1; ++x) {
          for (int c = 0; c < channels; ++c) {
            sum[c] += *p++;
          }
        }
      }
      const auto count = static_cast<float>((y1 - y0) * (x1 - x0));
      for (int c = 0; c < channels; ++c) {
        *dst++ = sum[c] / count;
      }
    }
  }
  return out;
}

std::vector<float> bicubic(const float* src, int height, int width, int channels, int new_height,
                           int new_width) {
  const std::vector<cubic_tap> ys = cubic_taps(height, new_height);
  const std::vector<cubic_tap> xs = cubic_taps(width, new_width);
  const std::size_t stride = static_cast<std::size_t>(width) * channels;
  std::vector<float> out(static_cast<std::size_t>(new_height) * new_width * channels);
  float* dst = out.data();
  for (const cubic_tap& y : ys) {
    for (const cubic_tap& x : xs) {
      for (int c = 0; c < channels; ++c) {
        // upsample_generic_Nd: the outer sum runs over rows, the inner over columns.
        float value = 0.0f;
        for (int j = 0; j < 4; ++j) {
          const float* row = src + y.index[j] * stride + c;
          float inner = 0.0f;
          for (int k = 0; k < 4; ++k) {
            inner += row[static_cast<std::size_t>(x.index[k]) * channels] * x.weight[k];
          }
          value += inner * y.weight[j];
        }
        *dst++ = value;
      }
    }
  }
  return out;
}

std::vector<float> lanczos(const float* src, int height, int width, int channels, int new_height,
                           int new_width) {
  const std::size_t in_size = static_cast<std::size_t>(height) * width * channels;
  std::vector<std::uint8_t> bytes(in_size);
  for (std::size_t i = 0; i < in_size; ++i) {
    // np.clip(255. * x, 0, 255).astype(np.uint8): truncation; NaN becomes 0.
    const float v = 255.0f * src[i];
    bytes[i] = v > 0.0f ? static_cast<std::uint8_t>(std::min(v, 255.0f)) : 0;
  }
  const std::vector<std::uint8_t> resized =
      pillow_lanczos(bytes.data(), height, width, channels, new_height, new_width);
  std::vector<float> out(resized.size());
  for (std::size_t i = 0; i < resized.size(); ++i) {
    out[i] = static_cast<float>(resized[i]) / 255.0f;
  }
  return out;
}

}  // namespace

resample_method parse_resample_method(std::string_view name) {
  if (name == "nearest-exact") {
    return resample_method::nearest_exact;
  }
  if (name == "bilinear") {
    return resample_method::bilinear;
  }
  if (name == "area") {
    return resample_method::area;
  }
  if (name == "bicubic") {
    return resample_method::bicubic;
  }
  if (name == "lanczos") {
    return resample_method::lanczos;
  }
  throw std::invalid_argument("unknown upscale method '" + std::string(name) + "'");
}

std::vector<float> resample(const float* src, int height, int width, int channels, int new_height,
                            int new_width, resample_method method) {
  if (height <= 0 || width <= 0 || channels <= 0 || new_height <= 0 || new_width <= 0) {
    throw std::invalid_argument("resample: sizes and channels must be positive");
  }
  switch (method) {
    case resample_method::nearest_exact:
      return nearest_exact(src, height, width, channels, new_height, new_width);
    case resample_method::bilinear:
      return bilinear(src, height, width, channels, new_height, new_width);
    case resample_method::area:
      return area(src, height, width, channels, new_height, new_width);
    case resample_method::bicubic:
      return bicubic(src, height, width, channels, new_height, new_width);
    case resample_method::lanczos:
      return lanczos(src, height, width, channels, new_height, new_width);
  }
  throw std::invalid_argument("resample: unknown method");
}

}  // namespace comfydist::image
