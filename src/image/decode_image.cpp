// Format sniffing and the decode_image entry point that dispatches to the per-format decoders.
#include <cstring>
#include <stdexcept>
#include <string>

#include "image/codec_detail.hpp"
#include "image/codecs.hpp"

namespace comfydist::image {

image_format sniff_format(std::span<const std::uint8_t> bytes) {
  static constexpr std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), png_signature, 8) == 0) {
    return image_format::png;
  }
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) {
    return image_format::jpeg;
  }
  if (bytes.size() >= 12 && std::memcmp(bytes.data(), "RIFF", 4) == 0 &&
      std::memcmp(bytes.data() + 8, "WEBP", 4) == 0) {
    return image_format::webp;
  }
  return image_format::unknown;
}

namespace detail {

void check_pixel_limit(std::uint64_t width, std::uint64_t height, const decode_limits& limits,
                       const char* format) {
  if (width == 0 || height == 0) {
    throw std::invalid_argument(std::string("corrupt ") + format + ": zero image size");
  }
  if (width * height > limits.max_pixels) {
    throw std::invalid_argument(std::string(format) + " image too large: " + std::to_string(width) +
                                "x" + std::to_string(height) + " exceeds the limit of " +
                                std::to_string(limits.max_pixels) + " pixels");
  }
}

}  // namespace detail

decoded_image decode_image(std::span<const std::uint8_t> bytes, const decode_limits& limits) {
  std::vector<std::uint8_t> exif;
  decoded_image result;
  switch (sniff_format(bytes)) {
    case image_format::png:
      result = detail::decode_png(bytes, limits, exif);
      break;
    case image_format::jpeg:
      result = detail::decode_jpeg(bytes, limits, exif);
      break;
    case image_format::webp:
      result = detail::decode_webp(bytes, limits, exif);
      break;
    case image_format::unknown:
      throw std::invalid_argument("not a PNG, JPEG or WebP image");
  }
  if (!exif.empty()) {
    const int orientation = detail::exif_orientation(exif);
    if (orientation > 1) {
      result.image = detail::apply_orientation(result.image, orientation);
    }
  }
  return result;
}

}  // namespace comfydist::image
