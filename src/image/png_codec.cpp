// PNG encoding and decoding with libspng; tEXt/iTXt chunks are written by hand right after IHDR.
#include <spng.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "image/codec_detail.hpp"
#include "image/codecs.hpp"
#include "image/png_band_encoder.hpp"

namespace comfydist::image {

namespace {

struct spng_ctx_deleter {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};
using spng_ctx_ptr = std::unique_ptr<spng_ctx, spng_ctx_deleter>;

constexpr std::size_t png_header_size = 8 + 8 + 13 + 4;  // signature + IHDR chunk

std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    table[n] = c;
  }
  return table;
}

std::uint32_t crc32(std::uint32_t crc, const std::uint8_t* data, std::size_t size) {
  static const auto table = make_crc_table();
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) {
    crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  }
  return ~crc;
}

void append_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void append_chunk(std::string& out, const char* type, std::string_view data) {
  if (data.size() > 0x7fffffffu) {
    throw std::invalid_argument("PNG text chunk too large");
  }
  append_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t type_pos = out.size();
  out.append(type, 4);
  out.append(data);
  const auto* begin = reinterpret_cast<const std::uint8_t*>(out.data() + type_pos);
  append_u32(out, crc32(0, begin, 4 + data.size()));
}

// Latin-1 bytes of a UTF-8 string, or false when it has code points above U+00FF or is not UTF-8.
bool utf8_to_latin1(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<std::uint8_t>(text[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < text.size() &&
               (static_cast<std::uint8_t>(text[i + 1]) & 0xc0) == 0x80) {
      out.push_back(
          static_cast<char>(((c & 0x03) << 6) | (static_cast<std::uint8_t>(text[i + 1]) & 0x3f)));
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

std::string latin1_to_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return out;
}

// Like Pillow's PngInfo.add_text: tEXt when the text fits Latin-1, otherwise uncompressed iTXt.
std::string text_chunks_bytes(const std::vector<png_text_chunk>& chunks) {
  std::string out;
  std::string latin1;
  std::string data;
  for (const auto& chunk : chunks) {
    if (chunk.keyword.empty() || chunk.keyword.size() > 79 ||
        chunk.keyword.find('\0') != std::string::npos) {
      throw std::invalid_argument("PNG text keyword must be 1-79 bytes without NUL: '" +
                                  chunk.keyword + "'");
    }
    if (chunk.text.find('\0') != std::string::npos) {
      throw std::invalid_argument("PNG text for '" + chunk.keyword + "' contains NUL");
    }
    data.assign(chunk.keyword);
    data.push_back('\0');
    if (utf8_to_latin1(chunk.text, latin1)) {
      data.append(latin1);
      append_chunk(out, "tEXt", data);
    } else {
      // compression flag, compression method, empty language tag, empty translated keyword
      data.append(std::string_view("\0\0\0\0", 4));
      data.append(chunk.text);
      append_chunk(out, "iTXt", data);
    }
  }
  return out;
}

struct png_writer {
  std::string out;
  std::string text;
  bool text_written = false;
};

// Splices the text chunks in as soon as signature and IHDR have been written.
int write_png_stream(spng_ctx* /*ctx*/, void* user, void* src, std::size_t length) {
  auto* writer = static_cast<png_writer*>(user);
  try {
    writer->out.append(static_cast<const char*>(src), length);
    if (!writer->text_written && writer->out.size() >= png_header_size) {
      std::string tail = writer->out.substr(png_header_size);
      writer->out.resize(png_header_size);
      writer->out.append(writer->text);
      writer->out.append(tail);
      writer->text_written = true;
    }
  } catch (...) {
    return SPNG_IO_ERROR;
  }
  return 0;
}

}  // namespace

void detail::check_spng(int err, const char* what) {
  if (err != 0) {
    throw std::runtime_error(std::string("PNG encode failed (") + what +
                             "): " + spng_strerror(err));
  }
}

void detail::configure_png_encoder(spng_ctx* ctx, spng_rw_fn* write, void* user, int width,
                                   int height, int channels, int compress_level) {
  static constexpr std::uint8_t color_types[] = {
      SPNG_COLOR_TYPE_GRAYSCALE, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, SPNG_COLOR_TYPE_TRUECOLOR,
      SPNG_COLOR_TYPE_TRUECOLOR_ALPHA};
  check_spng(spng_set_png_stream(ctx, write, user), "stream");
  check_spng(spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, compress_level), "level");
  // Pillow's ZipEncode uses memLevel 9; libspng's default strategy (Z_FILTERED) and adaptive
  // filters already match it, so sizes and speed track Pillow's.
  check_spng(spng_set_option(ctx, SPNG_IMG_MEM_LEVEL, 9), "memory level");
  spng_ihdr ihdr{};
  ihdr.width = static_cast<std::uint32_t>(width);
  ihdr.height = static_cast<std::uint32_t>(height);
  ihdr.bit_depth = 8;
  ihdr.color_type = color_types[channels - 1];
  check_spng(spng_set_ihdr(ctx, &ihdr), "IHDR");
}

std::string detail::png_text_bytes(const std::vector<png_text_chunk>& chunks) {
  return text_chunks_bytes(chunks);
}

std::string encode_png(const pixel_image& image, int compress_level,
                       const std::vector<png_text_chunk>& text_chunks) {
  if (image.channels < 1 || image.channels > 4) {
    throw std::invalid_argument("PNG encode needs 1-4 channels, got " +
                                std::to_string(image.channels));
  }
  if (image.width <= 0 || image.height <= 0 || image.pixels.size() != image.byte_size()) {
    throw std::invalid_argument("PNG encode: empty image or pixel buffer of the wrong size");
  }
  if (compress_level < 0 || compress_level > 9) {
    throw std::invalid_argument("PNG compress level must be 0-9");
  }
  // Big images are filtered and deflated in bands on every core (same stream format and ratio).
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (cores > 1 && image.byte_size() >= (std::size_t{1} << 20)) {
    return detail::encode_png_bands(image, compress_level, text_chunks_bytes(text_chunks),
                                    std::min(cores, 8));
  }
  png_writer writer;
  writer.text = text_chunks_bytes(text_chunks);
  writer.out.reserve(image.byte_size() / 2 + writer.text.size() + 1024);

  spng_ctx_ptr ctx(spng_ctx_new(SPNG_CTX_ENCODER));
  if (!ctx) {
    throw std::bad_alloc();
  }
  detail::configure_png_encoder(ctx.get(), write_png_stream, &writer, image.width, image.height,
                                image.channels, compress_level);
  detail::check_spng(spng_encode_image(ctx.get(), image.pixels.data(), image.pixels.size(),
                                       SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE),
                     "image");
  if (!writer.text_written) {
    throw std::runtime_error("PNG encode failed: no header written");
  }
  return std::move(writer.out);
}

namespace detail {

namespace {

[[noreturn]] void throw_corrupt(int err) {
  throw std::invalid_argument(std::string("corrupt PNG: ") + spng_strerror(err));
}

std::vector<png_text_chunk> read_text_chunks(spng_ctx* ctx) {
  std::vector<png_text_chunk> result;
  std::uint32_t count = 0;
  if (spng_get_text(ctx, nullptr, &count) != 0 || count == 0) {
    return result;
  }
  std::vector<spng_text> texts(count);
  if (spng_get_text(ctx, texts.data(), &count) != 0) {
    return result;
  }
  result.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const spng_text& t = texts[i];
    std::string_view keyword(t.keyword, strnlen(t.keyword, sizeof(t.keyword)));
    std::string_view text(t.text != nullptr ? t.text : "", t.text != nullptr ? t.length : 0);
    if (t.type == SPNG_ITXT) {
      result.push_back({latin1_to_utf8(keyword), std::string(text)});
    } else {
      result.push_back({latin1_to_utf8(keyword), latin1_to_utf8(text)});
    }
  }
  return result;
}

}  // namespace

decoded_image decode_png(std::span<const std::uint8_t> bytes, const decode_limits& limits,
                         std::vector<std::uint8_t>& exif) {
  spng_ctx_ptr ctx(spng_ctx_new(0));
  if (!ctx) {
    throw std::bad_alloc();
  }
  const std::uint32_t dim_limit =
      static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_pixels, std::size_t{0x7fffffff}));
  if (int err = spng_set_image_limits(ctx.get(), dim_limit, dim_limit); err != 0) {
    throw_corrupt(err);
  }
  // Text metadata (workflows) can be megabytes, but bound what a hostile file can make us hold.
  if (int err = spng_set_chunk_limits(ctx.get(), std::size_t{64} << 20, std::size_t{256} << 20);
      err != 0) {
    throw_corrupt(err);
  }
  if (int err = spng_set_png_buffer(ctx.get(), bytes.data(), bytes.size()); err != 0) {
    throw_corrupt(err);
  }
  spng_ihdr ihdr{};
  if (int err = spng_get_ihdr(ctx.get(), &ihdr); err != 0) {
    if (err == SPNG_EWIDTH || err == SPNG_EHEIGHT || err == SPNG_EUSER_WIDTH ||
        err == SPNG_EUSER_HEIGHT) {
      throw std::invalid_argument(std::string("PNG image too large or invalid size: ") +
                                  spng_strerror(err));
    }
    throw_corrupt(err);
  }
  check_pixel_limit(ihdr.width, ihdr.height, limits, "PNG");

  spng_trns trns{};
  const bool has_trns = spng_get_trns(ctx.get(), &trns) == 0;
  const bool gray = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE ||
                    ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
  const bool alpha = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ||
                     ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA || has_trns;
  // 8-bit non-palette data without tRNS is already in our layout; everything else goes through
  // libspng's RGB(A)8 conversion (palette, tRNS, low bit depths, 16 bits by taking the high byte).
  const bool direct =
      ihdr.bit_depth == 8 && ihdr.color_type != SPNG_COLOR_TYPE_INDEXED && !has_trns;
  const int fmt = direct ? SPNG_FMT_PNG : (alpha ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8);
  const int decoded_channels = direct ? (gray ? 1 : 3) + (alpha ? 1 : 0) : (alpha ? 4 : 3);

  std::size_t size = 0;
  if (int err = spng_decoded_image_size(ctx.get(), fmt, &size); err != 0) {
    throw_corrupt(err);
  }
  decoded_image result;
  result.has_alpha = alpha;
  pixel_image& img = result.image;
  img.width = static_cast<int>(ihdr.width);
  img.height = static_cast<int>(ihdr.height);
  img.channels = decoded_channels;
  if (size != img.byte_size()) {
    throw std::invalid_argument("corrupt PNG: unexpected decoded size");
  }
  img.pixels.resize(size);
  if (int err = spng_decode_image(ctx.get(), img.pixels.data(), size, fmt,
                                  has_trns ? SPNG_DECODE_TRNS : 0);
      err != 0) {
    throw_corrupt(err);
  }
  // Chunks after IDAT are optional; like Pillow, a damaged tail does not fail the image.
  spng_decode_chunks(ctx.get());

  if (gray && !direct) {
    const int out_channels = alpha ? 2 : 1;
    const std::size_t pixels = static_cast<std::size_t>(img.width) * img.height;
    std::uint8_t* data = img.pixels.data();
    for (std::size_t i = 0; i < pixels; ++i) {
      data[i * out_channels] = data[i * decoded_channels];
      if (alpha) {
        data[i * out_channels + 1] = data[i * decoded_channels + 3];
      }
    }
    img.channels = out_channels;
    img.pixels.resize(img.byte_size());
    img.pixels.shrink_to_fit();
  }

  result.text_chunks = read_text_chunks(ctx.get());
  spng_exif spng_exif_data{};
  if (spng_get_exif(ctx.get(), &spng_exif_data) == 0 && spng_exif_data.data != nullptr) {
    static constexpr std::uint8_t prefix[] = {'E', 'x', 'i', 'f', 0, 0};
    exif.assign(prefix, prefix + sizeof(prefix));
    exif.insert(exif.end(), spng_exif_data.data, spng_exif_data.data + spng_exif_data.length);
  }
  return result;
}

}  // namespace detail

}  // namespace comfydist::image
