// Image encoders and decoders: PNG (libspng, with tEXt chunks), JPEG (libjpeg-turbo) and WebP
// (libwebp), plus EXIF orientation on decode.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "image/pixel_image.hpp"

namespace comfydist::image {

enum class image_format { png, jpeg, webp, unknown };

// Identifies the format from the first bytes (magic numbers), not from a file name.
image_format sniff_format(std::span<const std::uint8_t> bytes);

struct png_text_chunk {
  std::string keyword;
  std::string text;
};

// PNG with the given zlib level (0-9) and uncompressed tEXt chunks written before IDAT, in order.
// Accepts 1-4 channels.
std::string encode_png(const pixel_image& image, int compress_level,
                       const std::vector<png_text_chunk>& text_chunks = {});

// JPEG at quality 1-100 (4:2:0 subsampling as Pillow's default). Accepts 1 or 3 channels; other
// channel counts are converted (alpha dropped).
std::string encode_jpeg(const pixel_image& image, int quality);

// Lossy WebP at quality 0-100; 3 or 4 channels (gray is expanded).
std::string encode_webp(const pixel_image& image, int quality);

struct decode_limits {
  // Refuse images whose width*height exceeds this before allocating pixels.
  std::size_t max_pixels = std::size_t{16384} * 16384;
};

struct decoded_image {
  pixel_image image;  // 1-4 channels as stored (16-bit PNG is reduced to 8 bits)
  bool has_alpha = false;
  std::vector<png_text_chunk> text_chunks;  // PNG tEXt/zTXt/iTXt, in file order
};

// Decodes PNG, JPEG or WebP (first frame) and applies the EXIF orientation (JPEG APP1, PNG eXIf,
// WebP EXIF) so the result is upright, as PIL's ImageOps.exif_transpose does. Throws
// std::invalid_argument with a message naming the problem for corrupt or unsupported data.
decoded_image decode_image(std::span<const std::uint8_t> bytes, const decode_limits& limits = {});

inline decoded_image decode_image(std::string_view bytes, const decode_limits& limits = {}) {
  return decode_image(std::span<const std::uint8_t>(
                          reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                      limits);
}

}  // namespace comfydist::image
