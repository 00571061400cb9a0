// Pillow's Image.resize(LANCZOS) on 8-bit interleaved data, which resample() uses for "lanczos".
#pragma once

#include <cstdint>
#include <vector>

namespace comfydist::image {

// Resizes like Pillow: two passes (horizontal, then vertical) with 22-bit fixed-point
// coefficients. Images with 2 or 4 channels are treated as LA/RGBA and resized premultiplied,
// as Image.resize does; any other channel count is resized channel by channel.
std::vector<std::uint8_t> pillow_lanczos(const std::uint8_t* src, int height, int width,
                                         int channels, int new_height, int new_width);

}  // namespace comfydist::image
