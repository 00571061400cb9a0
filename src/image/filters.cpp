// Gaussian/sharpen kernels and direct reflect-padded convolution (ImageBlur, ImageSharpen).
#include "image/filters.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>

namespace comfydist::image {

namespace {

// torch.linspace in float32: the two halves are computed from opposite ends.
std::vector<float> linspace(float start, float end, int steps) {
  std::vector<float> values(static_cast<std::size_t>(steps));
  if (steps == 1) {
    values[0] = start;
    return values;
  }
  const float step = (end - start) / static_cast<float>(steps - 1);
  const int halfway = steps / 2;
  for (int i = 0; i < steps; ++i) {
    values[i] = i < halfway ? start + step * static_cast<float>(i)
                            : end - step * static_cast<float>(steps - i - 1);
  }
  return values;
}

// Mirror index without edge repetition, bouncing as often as needed.
int reflect(int i, int n) {
  if (n == 1) {
    return 0;
  }
  const int period = 2 * (n - 1);
  int m = i % period;
  if (m < 0) {
    m += period;
  }
  return m < n ? m : period - m;
}

void check_size(int size) {
  if (size < 1 || size % 2 == 0) {
    throw std::invalid_argument("kernel size must be a positive odd number");
  }
}

}  // namespace

std::vector<float> gaussian_kernel(int size, float sigma) {
  check_size(size);
  if (!(sigma > 0.0f)) {
    throw std::invalid_argument("gaussian sigma must be positive");
  }
  const std::vector<float> coords = linspace(-1.0f, 1.0f, size);
  const auto denominator =
      static_cast<float>(2.0 * static_cast<double>(sigma) * static_cast<double>(sigma));
  std::vector<float> kernel(static_cast<std::size_t>(size) * size);
  float sum = 0.0f;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const float d = std::sqrt(coords[y] * coords[y] + coords[x] * coords[x]);
      const float g = std::exp(-(d * d) / denominator);
      kernel[static_cast<std::size_t>(y) * size + x] = g;
      sum += g;
    }
  }
  for (float& v : kernel) {
    v /= sum;
  }
  return kernel;
}

std::vector<float> sharpen_kernel(int size, float sigma, float alpha) {
  std::vector<float> kernel = gaussian_kernel(size, sigma);
  const auto factor = static_cast<float>(-(static_cast<double>(alpha) * 10.0));
  float sum = 0.0f;
  for (float& v : kernel) {
    v *= factor;
    sum += v;
  }
  const std::size_t center = static_cast<std::size_t>(size / 2) * size + size / 2;
  kernel[center] = kernel[center] - sum + 1.0f;
  return kernel;
}

std::vector<float> convolve_reflect(const float* src, int height, int width, int channels,
                                    const std::vector<float>& kernel, int kernel_size,
                                    const std::function<void()>& on_rows) {
  check_size(kernel_size);
  if (kernel.size() != static_cast<std::size_t>(kernel_size) * kernel_size) {
    throw std::invalid_argument("kernel has the wrong number of elements");
  }
  if (height <= 0 || width <= 0 || channels <= 0) {
    throw std::invalid_argument("convolve: sizes and channels must be positive");
  }
  const int r = kernel_size / 2;
  const std::size_t c = static_cast<std::size_t>(channels);
  const std::size_t padded_width =
      static_cast<std::size_t>(width) + 2 * static_cast<std::size_t>(r);
  const std::size_t padded_stride = padded_width * c;
  const std::size_t row_size = static_cast<std::size_t>(width) * c;

  std::vector<float> padded(padded_stride *
                            (static_cast<std::size_t>(height) + 2 * static_cast<std::size_t>(r)));
  for (int py = 0; py < height + 2 * r; ++py) {
    const float* in_row = src + static_cast<std::size_t>(reflect(py - r, height)) * row_size;
    float* out_row = padded.data() + static_cast<std::size_t>(py) * padded_stride;
    for (int px = 0; px < width + 2 * r; ++px) {
      std::copy_n(in_row + static_cast<std::size_t>(reflect(px - r, width)) * c, c,
                  out_row + static_cast<std::size_t>(px) * c);
    }
  }

  // Accumulating whole rows keeps the innermost loop contiguous and vectorisable.
  std::vector<float> out(row_size * static_cast<std::size_t>(height), 0.0f);
  for (int y = 0; y < height; ++y) {
    if (on_rows && y % 16 == 15) {
      on_rows();
    }
    float* acc = out.data() + static_cast<std::size_t>(y) * row_size;
    for (int ky = 0; ky < kernel_size; ++ky) {
      const float* in_row = padded.data() + static_cast<std::size_t>(y + ky) * padded_stride;
      const float* weights = kernel.data() + static_cast<std::size_t>(ky) * kernel_size;
      for (int kx = 0; kx < kernel_size; ++kx) {
        const float w = weights[kx];
        const float* in = in_row + static_cast<std::size_t>(kx) * c;
        for (std::size_t i = 0; i < row_size; ++i) {
          acc[i] += w * in[i];
        }
      }
    }
  }
  return out;
}

}  // namespace comfydist::image
