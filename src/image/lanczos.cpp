// Pillow's LANCZOS resampling (libImaging/Resample.c) reproduced bit for bit on 8-bit data.
#include "image/lanczos.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace comfydist::image {

namespace {

constexpr int precision_bits = 32 - 8 - 2;
constexpr double lanczos_support = 3.0;

double sinc(double x) {
  if (x == 0.0) {
    return 1.0;
  }
  x *= std::numbers::pi;
  return std::sin(x) / x;
}

double lanczos_filter(double x) {
  if (-3.0 <= x && x < 3.0) {
    return sinc(x) * sinc(x / 3.0);
  }
  return 0.0;
}

struct coefficients {
  int ksize = 0;
  std::vector<int> bounds;            // per output: first input index, count
  std::vector<std::int32_t> weights;  // per output: ksize fixed-point weights
};

// precompute_coeffs + normalize_coeffs_8bpc for the box (0, in_size).
coefficients precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = lanczos_support * filterscale;
  coefficients result;
  result.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  result.bounds.resize(static_cast<std::size_t>(out_size) * 2);
  result.weights.assign(static_cast<std::size_t>(out_size) * result.ksize, 0);
  std::vector<double> k(static_cast<std::size_t>(result.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    // Pillow truncates (value + 0.5) toward zero here; lround would differ for negative values.
    int xmin = static_cast<int>(center - support + 0.5);  // NOLINT(bugprone-incorrect-roundings)
    xmin = std::max(xmin, 0);
    int xmax = static_cast<int>(center + support + 0.5);  // NOLINT(bugprone-incorrect-roundings)
    xmax = std::min(xmax, in_size) - xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = lanczos_filter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    std::int32_t* out = &result.weights[static_cast<std::size_t>(xx) * result.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double normalised = ww != 0.0 ? k[x] / ww : k[x];
      const double fixed = normalised * (1 << precision_bits);
      out[x] = static_cast<std::int32_t>(normalised < 0 ? -0.5 + fixed : 0.5 + fixed);
    }
    result.bounds[static_cast<std::size_t>(xx) * 2] = xmin;
    result.bounds[static_cast<std::size_t>(xx) * 2 + 1] = xmax;
  }
  return result;
}

std::uint8_t clip8(std::int32_t value) {
  return static_cast<std::uint8_t>(std::clamp(value >> precision_bits, 0, 255));
}

// ImagingResampleHorizontal_8bpc over the given rows.
void resample_horizontal(const std::uint8_t* src, int src_width, std::uint8_t* dst, int dst_width,
                         int rows, int channels, const coefficients& co) {
  const std::size_t src_stride = static_cast<std::size_t>(src_width) * channels;
  const std::size_t dst_stride = static_cast<std::size_t>(dst_width) * channels;
  for (int y = 0; y < rows; ++y) {
    const std::uint8_t* in = src + y * src_stride;
    std::uint8_t* out = dst + y * dst_stride;
    for (int xx = 0; xx < dst_width; ++xx) {
      const int xmin = co.bounds[static_cast<std::size_t>(xx) * 2];
      const int xmax = co.bounds[static_cast<std::size_t>(xx) * 2 + 1];
      const std::int32_t* k = &co.weights[static_cast<std::size_t>(xx) * co.ksize];
      for (int c = 0; c < channels; ++c) {
        std::int32_t ss = 1 << (precision_bits - 1);
        for (int x = 0; x < xmax; ++x) {
          ss += in[static_cast<std::size_t>(x + xmin) * channels + c] * k[x];
        }
        out[static_cast<std::size_t>(xx) * channels + c] = clip8(ss);
      }
    }
  }
}

// ImagingResampleVertical_8bpc; bounds are relative to the first row of src plus row_offset.
void resample_vertical(const std::uint8_t* src, int width, std::uint8_t* dst, int dst_height,
                       int channels, const coefficients& co, int row_offset) {
  const std::size_t stride = static_cast<std::size_t>(width) * channels;
  std::vector<std::int32_t> acc(stride);
  for (int yy = 0; yy < dst_height; ++yy) {
    const int ymin = co.bounds[static_cast<std::size_t>(yy) * 2] - row_offset;
    const int ymax = co.bounds[static_cast<std::size_t>(yy) * 2 + 1];
    const std::int32_t* k = &co.weights[static_cast<std::size_t>(yy) * co.ksize];
    std::fill(acc.begin(), acc.end(), 1 << (precision_bits - 1));
    for (int y = 0; y < ymax; ++y) {
      const std::uint8_t* in = src + static_cast<std::size_t>(y + ymin) * stride;
      const std::int32_t w = k[y];
      for (std::size_t i = 0; i < stride; ++i) {
        acc[i] += in[i] * w;
      }
    }
    std::uint8_t* out = dst + static_cast<std::size_t>(yy) * stride;
    for (std::size_t i = 0; i < stride; ++i) {
      out[i] = clip8(acc[i]);
    }
  }
}

// MULDIV255 from Pillow's Convert.c (RGBA -> RGBa).
std::uint8_t muldiv255(unsigned a, unsigned b) {
  const unsigned tmp = a * b + 128;
  return static_cast<std::uint8_t>(((tmp >> 8) + tmp) >> 8);
}

void premultiply(std::vector<std::uint8_t>& data, int channels) {
  for (std::size_t i = 0; i < data.size(); i += channels) {
    const unsigned alpha = data[i + channels - 1];
    for (int c = 0; c < channels - 1; ++c) {
      data[i + c] = muldiv255(data[i + c], alpha);
    }
  }
}

// rgba2rgbA: alpha 0 and 255 keep their colour bytes.
void unpremultiply(std::vector<std::uint8_t>& data, int channels) {
  for (std::size_t i = 0; i < data.size(); i += channels) {
    const unsigned alpha = data[i + channels - 1];
    if (alpha == 0 || alpha == 255) {
      continue;
    }
    for (int c = 0; c < channels - 1; ++c) {
      data[i + c] = static_cast<std::uint8_t>(std::min(255u, (255u * data[i + c]) / alpha));
    }
  }
}

}  // namespace

std::vector<std::uint8_t> pillow_lanczos(const std::uint8_t* src, int height, int width,
                                         int channels, int new_height, int new_width) {
  if (height <= 0 || width <= 0 || channels <= 0 || new_height <= 0 || new_width <= 0) {
    throw std::invalid_argument("lanczos resize: sizes and channels must be positive");
  }
  const std::size_t in_size = static_cast<std::size_t>(height) * width * channels;
  std::vector<std::uint8_t> image(src, src + in_size);
  if (new_height == height && new_width == width) {
    return image;  // Image.resize returns a copy for the same size
  }
  const bool alpha = channels == 2 || channels == 4;
  if (alpha) {
    premultiply(image, channels);
  }
  const bool need_horizontal = new_width != width;
  const bool need_vertical = new_height != height;
  const coefficients horizontal = precompute(width, new_width);
  const coefficients vertical = precompute(height, new_height);
  int row_offset = 0;
  if (need_horizontal) {
    // Only the rows the vertical pass reads, as Pillow does.
    int first = 0;
    int last = height;
    if (need_vertical) {
      first = vertical.bounds[0];
      last = vertical.bounds[static_cast<std::size_t>(new_height) * 2 - 2] +
             vertical.bounds[static_cast<std::size_t>(new_height) * 2 - 1];
    }
    std::vector<std::uint8_t> temp(static_cast<std::size_t>(last - first) * new_width * channels);
    resample_horizontal(image.data() + static_cast<std::size_t>(first) * width * channels, width,
                        temp.data(), new_width, last - first, channels, horizontal);
    image = std::move(temp);
    width = new_width;
    row_offset = first;
  }
  if (need_vertical) {
    std::vector<std::uint8_t> out(static_cast<std::size_t>(new_height) * width * channels);
    resample_vertical(image.data(), width, out.data(), new_height, channels, vertical, row_offset);
    image = std::move(out);
  }
  if (alpha) {
    unpremultiply(image, channels);
  }
  return image;
}

}  // namespace comfydist::image
