// JPEG encoding and decoding with the TurboJPEG API, plus the APP1 EXIF lookup.
#include <turbojpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "image/codec_detail.hpp"
#include "image/codecs.hpp"

namespace comfydist::image {

namespace {

struct tj_deleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using tj_ptr = std::unique_ptr<void, tj_deleter>;

struct tj_buffer_deleter {
  void operator()(unsigned char* buffer) const { tjFree(buffer); }
};

std::string tj_error(void* handle) {
  return tjGetErrorStr2(handle);
}

}  // namespace

std::string encode_jpeg(const pixel_image& image, int quality) {
  if (image.channels < 1 || image.channels > 4) {
    throw std::invalid_argument("JPEG encode needs 1-4 channels, got " +
                                std::to_string(image.channels));
  }
  if (image.width <= 0 || image.height <= 0 || image.pixels.size() != image.byte_size()) {
    throw std::invalid_argument("JPEG encode: empty image or pixel buffer of the wrong size");
  }
  if (quality < 1 || quality > 100) {
    throw std::invalid_argument("JPEG quality must be 1-100");
  }
  if (image.width > 65535 || image.height > 65535) {
    throw std::invalid_argument("JPEG encode: image larger than 65535 pixels on a side");
  }
  const std::uint8_t* source = image.pixels.data();
  std::vector<std::uint8_t> gray;
  int pixel_format = TJPF_RGB;
  int subsampling = TJSAMP_420;
  switch (image.channels) {
    case 1:
      pixel_format = TJPF_GRAY;
      subsampling = TJSAMP_GRAY;
      break;
    case 2: {
      pixel_format = TJPF_GRAY;
      subsampling = TJSAMP_GRAY;
      const std::size_t pixels = static_cast<std::size_t>(image.width) * image.height;
      gray.resize(pixels);
      for (std::size_t i = 0; i < pixels; ++i) {
        gray[i] = image.pixels[i * 2];
      }
      source = gray.data();
      break;
    }
    case 4:
      // TurboJPEG ignores the fourth byte of RGBX, so RGBA needs no copy.
      pixel_format = TJPF_RGBX;
      break;
    default:
      break;
  }
  tj_ptr handle(tjInitCompress());
  if (!handle) {
    throw std::runtime_error("JPEG encode failed: " + tj_error(nullptr));
  }
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  const int rc = tjCompress2(handle.get(), source, image.width, 0, image.height, pixel_format, &out,
                             &out_size, subsampling, quality, 0);
  std::unique_ptr<unsigned char, tj_buffer_deleter> guard(out);
  if (rc != 0) {
    throw std::runtime_error("JPEG encode failed: " + tj_error(handle.get()));
  }
  return std::string(reinterpret_cast<const char*>(out), out_size);
}

namespace detail {

namespace {

// Walks the marker segments before the scan data for an APP1 block starting with "Exif\0\0".
std::vector<std::uint8_t> find_jpeg_exif(std::span<const std::uint8_t> bytes) {
  std::size_t pos = 2;
  while (pos + 4 <= bytes.size()) {
    if (bytes[pos] != 0xff) {
      break;
    }
    const std::uint8_t marker = bytes[pos + 1];
    if (marker == 0xff) {
      ++pos;
      continue;
    }
    if (marker == 0xda || marker == 0xd9) {
      break;
    }
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    const std::size_t length = (std::size_t{bytes[pos + 2]} << 8) | bytes[pos + 3];
    if (length < 2 || pos + 2 + length > bytes.size()) {
      break;
    }
    const std::uint8_t* payload = bytes.data() + pos + 4;
    const std::size_t payload_size = length - 2;
    if (marker == 0xe1 && payload_size >= 6 && std::memcmp(payload, "Exif\0\0", 6) == 0) {
      return std::vector<std::uint8_t>(payload, payload + payload_size);
    }
    pos += 2 + length;
  }
  return {};
}

// Pillow opens CMYK JPEGs as inverted ("Adobe") CMYK and converts with cmyk2rgb.
void cmyk_to_rgb(const std::uint8_t* cmyk, std::uint8_t* rgb, std::size_t pixels) {
  for (std::size_t i = 0; i < pixels; ++i) {
    // Read the whole pixel first: the conversion may run in place.
    const int in[4] = {cmyk[i * 4], cmyk[i * 4 + 1], cmyk[i * 4 + 2], cmyk[i * 4 + 3]};
    const int nk = in[3];
    for (int c = 0; c < 3; ++c) {
      const int inverted = 255 - in[c];
      const int tmp = inverted * nk + 128;
      const int product = ((tmp >> 8) + tmp) >> 8;
      rgb[i * 3 + c] = static_cast<std::uint8_t>(std::clamp(nk - product, 0, 255));
    }
  }
}

}  // namespace

decoded_image decode_jpeg(std::span<const std::uint8_t> bytes, const decode_limits& limits,
                          std::vector<std::uint8_t>& exif) {
  if (bytes.size() > 0xffffffffu) {
    throw std::invalid_argument("JPEG too large");
  }
  tj_ptr handle(tjInitDecompress());
  if (!handle) {
    throw std::runtime_error("JPEG decoder init failed: " + tj_error(nullptr));
  }
  int width = 0;
  int height = 0;
  int subsampling = 0;
  int colorspace = 0;
  if (tjDecompressHeader3(handle.get(), bytes.data(), static_cast<unsigned long>(bytes.size()),
                          &width, &height, &subsampling, &colorspace) != 0) {
    throw std::invalid_argument("corrupt JPEG: " + tj_error(handle.get()));
  }
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("corrupt JPEG: invalid size");
  }
  check_pixel_limit(static_cast<std::uint64_t>(width), static_cast<std::uint64_t>(height), limits,
                    "JPEG");
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int pixel_format = cmyk ? TJPF_CMYK : (colorspace == TJCS_GRAY ? TJPF_GRAY : TJPF_RGB);
  const int channels = tjPixelSize[pixel_format];

  decoded_image result;
  pixel_image& img = result.image;
  img.width = width;
  img.height = height;
  img.channels = channels;
  img.pixels.resize(img.byte_size());
  if (tjDecompress2(handle.get(), bytes.data(), static_cast<unsigned long>(bytes.size()),
                    img.pixels.data(), width, 0, height, pixel_format, 0) != 0) {
    const std::string message = tj_error(handle.get());
    // libjpeg warnings such as extraneous bytes still leave a complete image; a premature end
    // of data does not (Pillow reports it as truncated too).
    if (tjGetErrorCode(handle.get()) != TJERR_WARNING ||
        message.find("Premature end") != std::string::npos) {
      throw std::invalid_argument("corrupt JPEG: " + message);
    }
  }
  if (cmyk) {
    const std::size_t pixels = static_cast<std::size_t>(width) * height;
    cmyk_to_rgb(img.pixels.data(), img.pixels.data(), pixels);
    img.channels = 3;
    img.pixels.resize(img.byte_size());
    img.pixels.shrink_to_fit();
  }
  exif = find_jpeg_exif(bytes);
  return result;
}

}  // namespace detail

}  // namespace comfydist::image
