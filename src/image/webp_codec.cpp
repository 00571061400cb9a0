// WebP encoding (lossy, libwebp) and decoding of still images and the first animation frame,
// with the RIFF chunks (EXIF, ANMF) parsed here so that libwebpdemux is not needed.
#include <webp/decode.h>
#include <webp/encode.h>

#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "image/codec_detail.hpp"
#include "image/codecs.hpp"

namespace comfydist::image {

std::string encode_webp(const pixel_image& image, int quality) {
  if (image.channels < 1 || image.channels > 4) {
    throw std::invalid_argument("WebP encode needs 1-4 channels, got " +
                                std::to_string(image.channels));
  }
  if (image.width <= 0 || image.height <= 0 || image.pixels.size() != image.byte_size()) {
    throw std::invalid_argument("WebP encode: empty image or pixel buffer of the wrong size");
  }
  if (image.width > WEBP_MAX_DIMENSION || image.height > WEBP_MAX_DIMENSION) {
    throw std::invalid_argument("WebP encode: image larger than 16383 pixels on a side");
  }
  if (quality < 0 || quality > 100) {
    throw std::invalid_argument("WebP quality must be 0-100");
  }
  const std::uint8_t* source = image.pixels.data();
  std::vector<std::uint8_t> expanded;
  const bool alpha = image.channels == 2 || image.channels == 4;
  if (image.channels <= 2) {
    const std::size_t pixels = static_cast<std::size_t>(image.width) * image.height;
    const int out_channels = alpha ? 4 : 3;
    expanded.resize(pixels * out_channels);
    for (std::size_t i = 0; i < pixels; ++i) {
      const std::uint8_t g = image.pixels[i * image.channels];
      expanded[i * out_channels] = g;
      expanded[i * out_channels + 1] = g;
      expanded[i * out_channels + 2] = g;
      if (alpha) {
        expanded[i * out_channels + 3] = image.pixels[i * 2 + 1];
      }
    }
    source = expanded.data();
  }
  std::uint8_t* out = nullptr;
  const int stride = image.width * (alpha ? 4 : 3);
  const auto q = static_cast<float>(quality);
  const std::size_t size = alpha
                               ? WebPEncodeRGBA(source, image.width, image.height, stride, q, &out)
                               : WebPEncodeRGB(source, image.width, image.height, stride, q, &out);
  if (size == 0 || out == nullptr) {
    WebPFree(out);
    throw std::runtime_error("WebP encode failed");
  }
  std::string result(reinterpret_cast<const char*>(out), size);
  WebPFree(out);
  return result;
}

namespace detail {

namespace {

std::uint32_t read_le24(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16);
}

std::uint32_t read_le32(const std::uint8_t* p) {
  return read_le24(p) | (std::uint32_t{p[3]} << 24);
}

struct riff_chunk {
  const std::uint8_t* data;
  std::size_t size;
};

struct webp_chunks {
  std::optional<riff_chunk> exif;
  std::optional<riff_chunk> first_frame;  // ANMF payload
};

webp_chunks scan_chunks(std::span<const std::uint8_t> bytes) {
  webp_chunks result;
  std::size_t end = bytes.size();
  const std::size_t riff_end = std::size_t{read_le32(bytes.data() + 4)} + 8;
  if (riff_end < end) {
    end = riff_end;
  }
  std::size_t pos = 12;
  while (pos + 8 <= end) {
    const std::uint8_t* header = bytes.data() + pos;
    const std::size_t size = read_le32(header + 4);
    if (size > end - pos - 8) {
      break;
    }
    const riff_chunk chunk{header + 8, size};
    if (std::memcmp(header, "EXIF", 4) == 0 && !result.exif) {
      result.exif = chunk;
    } else if (std::memcmp(header, "ANMF", 4) == 0 && !result.first_frame) {
      result.first_frame = chunk;
    }
    pos += 8 + size + (size & 1);
  }
  return result;
}

void append_le(std::vector<std::uint8_t>& out, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

// Canvas-sized first frame of an animation over a transparent canvas, as WebPAnimDecoder
// (what Pillow uses) produces it: the first frame is a key frame and is not blended.
pixel_image decode_first_frame(const riff_chunk& anmf, int canvas_width, int canvas_height,
                               bool canvas_alpha, const decode_limits& limits) {
  if (anmf.size < 16 + 8) {
    throw std::invalid_argument("corrupt WebP: short ANMF chunk");
  }
  const std::uint32_t x = read_le24(anmf.data) * 2;
  const std::uint32_t y = read_le24(anmf.data + 3) * 2;
  const std::uint32_t w = read_le24(anmf.data + 6) + 1;
  const std::uint32_t h = read_le24(anmf.data + 9) + 1;
  if (x + w > static_cast<std::uint32_t>(canvas_width) ||
      y + h > static_cast<std::uint32_t>(canvas_height)) {
    throw std::invalid_argument("corrupt WebP: animation frame outside the canvas");
  }
  check_pixel_limit(w, h, limits, "WebP");
  const std::uint8_t* frame_data = anmf.data + 16;
  const std::size_t frame_size = anmf.size - 16;
  const bool has_alph = std::memcmp(frame_data, "ALPH", 4) == 0;

  std::vector<std::uint8_t> file = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'};
  if (has_alph) {
    file.insert(file.end(), {'V', 'P', '8', 'X'});
    append_le(file, 10, 4);
    append_le(file, 0x10, 4);  // alpha flag + reserved
    append_le(file, w - 1, 3);
    append_le(file, h - 1, 3);
  }
  file.insert(file.end(), frame_data, frame_data + frame_size);
  const std::size_t riff_size = file.size() - 8;
  for (int i = 0; i < 4; ++i) {
    file[4 + i] = static_cast<std::uint8_t>(riff_size >> (8 * i));
  }

  std::vector<std::uint8_t> frame(static_cast<std::size_t>(w) * h * 4);
  if (WebPDecodeRGBAInto(file.data(), file.size(), frame.data(), frame.size(),
                         static_cast<int>(w * 4)) == nullptr) {
    throw std::invalid_argument("corrupt WebP: cannot decode the first animation frame");
  }
  int fw = 0;
  int fh = 0;
  if (WebPGetInfo(file.data(), file.size(), &fw, &fh) == 0 || static_cast<std::uint32_t>(fw) != w ||
      static_cast<std::uint32_t>(fh) != h) {
    throw std::invalid_argument("corrupt WebP: animation frame size mismatch");
  }

  pixel_image img;
  img.width = canvas_width;
  img.height = canvas_height;
  img.channels = canvas_alpha ? 4 : 3;
  img.pixels.assign(img.byte_size(), 0);
  for (std::uint32_t row = 0; row < h; ++row) {
    const std::uint8_t* src = frame.data() + static_cast<std::size_t>(row) * w * 4;
    std::uint8_t* dst =
        img.pixels.data() + ((static_cast<std::size_t>(y + row) * canvas_width) + x) * img.channels;
    for (std::uint32_t col = 0; col < w; ++col) {
      for (int c = 0; c < img.channels; ++c) {
        dst[col * img.channels + c] = src[col * 4 + c];
      }
    }
  }
  return img;
}

}  // namespace

decoded_image decode_webp(std::span<const std::uint8_t> bytes, const decode_limits& limits,
                          std::vector<std::uint8_t>& exif) {
  WebPBitstreamFeatures features{};
  const VP8StatusCode status = WebPGetFeatures(bytes.data(), bytes.size(), &features);
  if (status != VP8_STATUS_OK) {
    throw std::invalid_argument("corrupt WebP: " + std::string(status == VP8_STATUS_NOT_ENOUGH_DATA
                                                                   ? "truncated data"
                                                                   : "invalid bitstream"));
  }
  check_pixel_limit(static_cast<std::uint64_t>(features.width),
                    static_cast<std::uint64_t>(features.height), limits, "WebP");
  const webp_chunks chunks = scan_chunks(bytes);

  decoded_image result;
  result.has_alpha = features.has_alpha != 0;
  if (features.has_animation != 0) {
    if (!chunks.first_frame) {
      throw std::invalid_argument("corrupt WebP: animation without frames");
    }
    result.image = decode_first_frame(*chunks.first_frame, features.width, features.height,
                                      result.has_alpha, limits);
  } else {
    pixel_image& img = result.image;
    img.width = features.width;
    img.height = features.height;
    img.channels = result.has_alpha ? 4 : 3;
    img.pixels.resize(img.byte_size());
    const int stride = img.width * img.channels;
    const std::uint8_t* decoded =
        result.has_alpha ? WebPDecodeRGBAInto(bytes.data(), bytes.size(), img.pixels.data(),
                                              img.pixels.size(), stride)
                         : WebPDecodeRGBInto(bytes.data(), bytes.size(), img.pixels.data(),
                                             img.pixels.size(), stride);
    if (decoded == nullptr) {
      throw std::invalid_argument("corrupt WebP: cannot decode image data");
    }
  }
  if (chunks.exif) {
    static constexpr std::uint8_t prefix[] = {'E', 'x', 'i', 'f', 0, 0};
    if (chunks.exif->size < 6 || std::memcmp(chunks.exif->data, prefix, 6) != 0) {
      exif.assign(prefix, prefix + sizeof(prefix));
    }
    exif.insert(exif.end(), chunks.exif->data, chunks.exif->data + chunks.exif->size);
  }
  return result;
}

}  // namespace detail

}  // namespace comfydist::image
