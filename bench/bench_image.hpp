// The benchmark test image: a deterministic 8-bit RGB picture with smooth gradients and mild
// noise, closer to a photo than a flat colour or pure noise (both make deflate unrealistic).
#pragma once

#include <cstdint>
#include <vector>

namespace comfydist::bench {

inline std::vector<std::uint8_t> make_bench_image(int width, int height) {
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width) * height * 3);
  std::uint32_t state = 12345;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      state = state * 1664525U + 1013904223U;
      const int noise = static_cast<int>((state >> 24) & 7) - 3;
      const std::size_t i = (static_cast<std::size_t>(y) * width + x) * 3;
      pixels[i] = static_cast<std::uint8_t>(((x * 255) / width + noise) & 0xFF);
      pixels[i + 1] = static_cast<std::uint8_t>(((y * 255) / height + noise) & 0xFF);
      pixels[i + 2] =
          static_cast<std::uint8_t>((((x + y) * 127) / (width + height) + 64 + noise) & 0xFF);
    }
  }
  return pixels;
}

}  // namespace comfydist::bench
