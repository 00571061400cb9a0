// An 8-bit interleaved image (1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA): what codecs read and
// write.
#pragma once

#include <cstdint>
#include <vector>

namespace comfydist::image {

struct pixel_image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::uint8_t> pixels;  // row-major, width * height * channels bytes

  std::size_t byte_size() const {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
           static_cast<std::size_t>(channels);
  }
};

}  // namespace comfydist::image
