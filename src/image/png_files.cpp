// Streaming PNG files: the row-by-row writer and the text-adding copy.
#include "image/png_files.hpp"

#include <spng.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <stdexcept>

#include "image/codec_detail.hpp"

namespace comfydist::image {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kHeaderSize = 8 + 8 + 13 + 4;  // signature + IHDR chunk
constexpr std::array<std::uint8_t, 8> kSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

struct file_closer {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

std::uint32_t read_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// The signature and IHDR of a PNG file; throws std::invalid_argument for anything else.
std::array<std::uint8_t, kHeaderSize> read_header(std::FILE* file, const fs::path& path) {
  std::array<std::uint8_t, kHeaderSize> header{};
  if (std::fread(header.data(), 1, header.size(), file) != header.size() ||
      std::memcmp(header.data(), kSignature.data(), kSignature.size()) != 0 ||
      read_u32(header.data() + 8) != 13 || std::memcmp(header.data() + 12, "IHDR", 4) != 0) {
    throw std::invalid_argument(path.filename().string() + " is not a PNG file");
  }
  return header;
}

file_ptr open_file(const fs::path& path, const char* mode) {
  file_ptr file(std::fopen(path.c_str(), mode));
  if (!file) {
    throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  return file;
}

// Flush, fsync, close, rename: the file appears whole or not at all.
void commit(file_ptr file, const fs::path& part, const fs::path& path) {
  const bool ok = std::fflush(file.get()) == 0 && ::fsync(fileno(file.get())) == 0;
  const int closed = std::fclose(file.release());
  if (!ok || closed != 0) {
    throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  fs::rename(part, path);
}

void write_all(std::FILE* file, const void* data, std::size_t size) {
  if (size > 0 && std::fwrite(data, 1, size, file) != size) {
    throw std::runtime_error(std::string("PNG write failed: ") + std::strerror(errno));
  }
}

}  // namespace

struct png_stream_writer::output {
  file_ptr file;
  std::string head;  // what libspng wrote before the end of IHDR
  std::string text;  // spliced in right after IHDR
  bool spliced = false;
};

namespace {

int write_stream(spng_ctx* /*ctx*/, void* user, void* src, std::size_t length) {
  auto* out = static_cast<png_stream_writer::output*>(user);
  const auto* data = static_cast<const char*>(src);
  try {
    if (out->spliced) {
      write_all(out->file.get(), data, length);
      return 0;
    }
    out->head.append(data, length);
    if (out->head.size() >= kHeaderSize) {
      write_all(out->file.get(), out->head.data(), kHeaderSize);
      write_all(out->file.get(), out->text.data(), out->text.size());
      write_all(out->file.get(), out->head.data() + kHeaderSize, out->head.size() - kHeaderSize);
      out->head.clear();
      out->spliced = true;
    }
  } catch (const std::exception&) {
    return SPNG_IO_ERROR;  // reported by spng_encode_row as an I/O error
  }
  return 0;
}

}  // namespace

png_stream_writer::png_stream_writer(fs::path path, int width, int height, int channels,
                                     int compress_level,
                                     const std::vector<png_text_chunk>& text_chunks)
    : path_(std::move(path)), part_(path_.string() + ".part") {
  if (width <= 0 || height <= 0 || channels < 1 || channels > 4 || compress_level < 0 ||
      compress_level > 9) {
    throw std::invalid_argument("PNG stream: bad size, channel count or compress level");
  }
  row_bytes_ = static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
  rows_left_ = height;
  out_ = std::make_unique<output>();
  out_->text = detail::png_text_bytes(text_chunks);
  out_->file = open_file(part_, "wb");
  try {
    ctx_.reset(spng_ctx_new(SPNG_CTX_ENCODER));
    if (!ctx_) {
      throw std::bad_alloc();
    }
    detail::configure_png_encoder(ctx_.get(), write_stream, out_.get(), width, height, channels,
                                  compress_level);
    detail::check_spng(spng_encode_image(ctx_.get(), nullptr, 0, SPNG_FMT_PNG,
                                         SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE),
                       "start");
  } catch (...) {
    out_.reset();
    std::error_code ec;
    fs::remove(part_, ec);
    throw;
  }
}

void png_stream_writer::ctx_deleter::operator()(spng_ctx* ctx) const {
  spng_ctx_free(ctx);
}

png_stream_writer::~png_stream_writer() {
  ctx_.reset();
  if (!finished_) {
    out_.reset();  // closes the file before it goes
    std::error_code ec;
    fs::remove(part_, ec);
  }
}

void png_stream_writer::write_rows(std::span<const std::uint8_t> rows) {
  if (rows.size() % row_bytes_ != 0 ||
      rows.size() / row_bytes_ > static_cast<std::size_t>(rows_left_)) {
    throw std::invalid_argument("PNG stream: rows must be whole and within the image's height");
  }
  for (std::size_t at = 0; at < rows.size(); at += row_bytes_) {
    const int err = spng_encode_row(ctx_.get(), rows.data() + at, row_bytes_);
    --rows_left_;
    // The last row answers SPNG_EOI: the image is complete.
    if (err != 0 && !(err == SPNG_EOI && rows_left_ == 0)) {
      detail::check_spng(err, "row");
    }
  }
}

void png_stream_writer::finish() {
  if (rows_left_ != 0 || !out_->spliced) {
    throw std::logic_error("PNG stream: finish() before the last row");
  }
  commit(std::move(out_->file), part_, path_);
  finished_ = true;
}

png_size read_png_size(const fs::path& path) {
  const file_ptr file = open_file(path, "rb");
  const auto header = read_header(file.get(), path);
  png_size size;
  size.width = static_cast<int>(read_u32(header.data() + 16));
  size.height = static_cast<int>(read_u32(header.data() + 20));
  if (size.width <= 0 || size.height <= 0) {
    throw std::invalid_argument(path.filename().string() + " has no valid PNG size");
  }
  return size;
}

void copy_png_with_text(const fs::path& from, const fs::path& to,
                        const std::vector<png_text_chunk>& text_chunks) {
  const std::string text = detail::png_text_bytes(text_chunks);
  const file_ptr in = open_file(from, "rb");
  const auto header = read_header(in.get(), from);
  const fs::path part = to.string() + ".part";
  file_ptr out = open_file(part, "wb");
  try {
    write_all(out.get(), header.data(), header.size());
    write_all(out.get(), text.data(), text.size());
    std::vector<char> buffer(std::size_t{1} << 20);
    while (const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), in.get())) {
      write_all(out.get(), buffer.data(), got);
    }
    if (std::ferror(in.get()) != 0) {
      throw std::runtime_error("cannot read " + from.string());
    }
    commit(std::move(out), part, to);
  } catch (...) {
    out.reset();
    std::error_code ec;
    fs::remove(part, ec);
    throw;
  }
}

}  // namespace comfydist::image
