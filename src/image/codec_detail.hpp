// Per-format decoders and the EXIF orientation step shared by decode_image (internal to cd_image).
#pragma once

#include <spng.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "image/codecs.hpp"

namespace comfydist::image::detail {

// Each decoder leaves the EXIF block it found (TIFF data with the "Exif\0\0" prefix) in exif.
decoded_image decode_png(std::span<const std::uint8_t> bytes, const decode_limits& limits,
                         std::vector<std::uint8_t>& exif);
decoded_image decode_jpeg(std::span<const std::uint8_t> bytes, const decode_limits& limits,
                          std::vector<std::uint8_t>& exif);
decoded_image decode_webp(std::span<const std::uint8_t> bytes, const decode_limits& limits,
                          std::vector<std::uint8_t>& exif);

// The tEXt/iTXt chunks (length, type, data, CRC) encode_png writes right after IHDR. Throws
// std::invalid_argument for a keyword that is empty, over 79 bytes or holds NUL, or text with NUL.
std::string png_text_bytes(const std::vector<png_text_chunk>& chunks);

// Sets up a libspng encoder as every PNG of ours is written: 8 bits, 1-4 channels, the zlib
// level, memory level 9, output through `write`. Throws std::runtime_error naming the failed step.
void configure_png_encoder(spng_ctx* ctx, spng_rw_fn* write, void* user, int width, int height,
                           int channels, int compress_level);

// Throws std::runtime_error("PNG encode failed (what): ...") when err is not 0.
void check_spng(int err, const char* what);

// Orientation tag (1-8) from an EXIF block, or 1 when missing or unreadable.
int exif_orientation(std::span<const std::uint8_t> exif);

// Rotates/flips so that an image tagged with orientation is upright (PIL's exif_transpose).
pixel_image apply_orientation(const pixel_image& image, int orientation);

// Throws std::invalid_argument when width*height is over the limit; call before allocating.
void check_pixel_limit(std::uint64_t width, std::uint64_t height, const decode_limits& limits,
                       const char* format);

}  // namespace comfydist::image::detail
