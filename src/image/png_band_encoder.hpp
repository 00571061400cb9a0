// A PNG encoder that filters and deflates horizontal bands of the image on several threads and
// joins them into one standard zlib stream (each band primed with the previous band's last 32 KiB
// as its dictionary, as pigz does), so big images encode about N times faster with the same
// compression as a single-threaded encoder.
#pragma once

#include <string>

#include "image/pixel_image.hpp"

namespace comfydist::image::detail {

// `text_chunk_bytes`: complete tEXt/iTXt chunks, written right after IHDR. Adaptive row filters
// (the minimum-sum-of-absolute-differences choice libpng and Pillow make).
std::string encode_png_bands(const pixel_image& image, int compress_level,
                             const std::string& text_chunk_bytes, int threads);

}  // namespace comfydist::image::detail
