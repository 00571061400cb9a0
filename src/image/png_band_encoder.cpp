// Parallel PNG encoding: per-band filtering and deflate, joined with adler32_combine.
#include "image/png_band_encoder.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <thread>
#include <vector>

namespace comfydist::image::detail {
namespace {

constexpr std::size_t kWindow = 32768;

void append_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void append_chunk(std::string& out, const char* type, const std::uint8_t* data, std::size_t size) {
  append_u32(out, static_cast<std::uint32_t>(size));
  const std::size_t start = out.size();
  out.append(type, 4);
  out.append(reinterpret_cast<const char*>(data), size);
  const auto crc =
      ::crc32(0L, reinterpret_cast<const Bytef*>(out.data() + start), static_cast<uInt>(size + 4));
  append_u32(out, static_cast<std::uint32_t>(crc));
}

std::uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a);
  const int pb = std::abs(p - b);
  const int pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) {
    return static_cast<std::uint8_t>(a);
  }
  return static_cast<std::uint8_t>(pb <= pc ? b : c);
}

std::uint64_t abs_sum(const std::uint8_t* data, std::size_t size) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < size; ++i) {
    const std::uint8_t v = data[i];
    sum += v < 128 ? v : 256U - v;
  }
  return sum;
}

// Filters one row into out (1 filter byte + row bytes), choosing the filter whose output has the
// smallest sum of absolute values when read as signed bytes. One tight loop per filter type keeps
// each vectorisable.
void filter_row(const std::uint8_t* row, const std::uint8_t* prev, std::size_t size, int bpp,
                std::uint8_t* out, std::vector<std::uint8_t>& scratch) {
  scratch.resize(5 * size);
  std::vector<std::uint8_t> zero_row;
  if (prev == nullptr) {
    zero_row.assign(size, 0);
    prev = zero_row.data();
  }
  const auto n = static_cast<std::size_t>(bpp);
  std::uint8_t* none = scratch.data();
  std::uint8_t* sub = none + size;
  std::uint8_t* up = sub + size;
  std::uint8_t* avg = up + size;
  std::uint8_t* pae = avg + size;
  std::copy_n(row, size, none);
  for (std::size_t i = 0; i < n && i < size; ++i) {
    sub[i] = row[i];
    avg[i] = static_cast<std::uint8_t>(row[i] - (prev[i] >> 1));
    pae[i] = static_cast<std::uint8_t>(row[i] - prev[i]);
  }
  for (std::size_t i = n; i < size; ++i) {
    sub[i] = static_cast<std::uint8_t>(row[i] - row[i - n]);
  }
  for (std::size_t i = 0; i < size; ++i) {
    up[i] = static_cast<std::uint8_t>(row[i] - prev[i]);
  }
  for (std::size_t i = n; i < size; ++i) {
    avg[i] = static_cast<std::uint8_t>(row[i] - ((row[i - n] + prev[i]) >> 1));
  }
  for (std::size_t i = n; i < size; ++i) {
    pae[i] = static_cast<std::uint8_t>(row[i] - paeth(row[i - n], prev[i], prev[i - n]));
  }
  std::uint64_t best_sum = UINT64_MAX;
  int best = 0;
  for (int f = 0; f < 5; ++f) {
    const std::uint64_t sum = abs_sum(scratch.data() + static_cast<std::size_t>(f) * size, size);
    if (sum < best_sum) {
      best_sum = sum;
      best = f;
    }
  }
  out[0] = static_cast<std::uint8_t>(best);
  std::copy_n(scratch.data() + static_cast<std::size_t>(best) * size, size, out + 1);
}

struct band {
  int first_row = 0;
  int rows = 0;
  std::vector<std::uint8_t> filtered;
  std::vector<std::uint8_t> deflated;
  uLong adler = 1;
};

void filter_band(const pixel_image& image, band& b) {
  const std::size_t row_size = static_cast<std::size_t>(image.width) * image.channels;
  b.filtered.resize((row_size + 1) * static_cast<std::size_t>(b.rows));
  std::vector<std::uint8_t> scratch;
  for (int r = 0; r < b.rows; ++r) {
    const int y = b.first_row + r;
    const std::uint8_t* row = image.pixels.data() + static_cast<std::size_t>(y) * row_size;
    const std::uint8_t* prev = y > 0 ? row - row_size : nullptr;
    filter_row(row, prev, row_size, image.channels,
               b.filtered.data() + static_cast<std::size_t>(r) * (row_size + 1), scratch);
  }
  b.adler = ::adler32(1L, b.filtered.data(), static_cast<uInt>(b.filtered.size()));
}

// Raw deflate of one band; all but the last end on a byte boundary (Z_SYNC_FLUSH) so the pieces
// concatenate into one stream. The previous band's tail primes the window, keeping the ratio.
void deflate_band(int level, band& b, const band* previous, bool last) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("PNG encode: deflateInit2 failed");
  }
  if (previous != nullptr) {
    const std::size_t n = std::min(kWindow, previous->filtered.size());
    deflateSetDictionary(&z, previous->filtered.data() + previous->filtered.size() - n,
                         static_cast<uInt>(n));
  }
  const std::size_t capacity = static_cast<std::size_t>(deflateBound(&z, b.filtered.size())) + 64;
  b.deflated.resize(capacity);
  z.next_in = b.filtered.data();
  z.avail_in = static_cast<uInt>(b.filtered.size());
  z.next_out = b.deflated.data();
  z.avail_out = static_cast<uInt>(capacity);
  const int rc = deflate(&z, last ? Z_FINISH : Z_SYNC_FLUSH);
  const bool ok = (last ? rc == Z_STREAM_END : rc == Z_OK) && z.avail_in == 0;
  b.deflated.resize(capacity - z.avail_out);
  deflateEnd(&z);
  if (!ok) {
    throw std::runtime_error("PNG encode: deflate failed");
  }
}

// Runs task(i) for every band, band 0 on the calling thread, and rethrows the first failure.
template <typename Task>
void for_each_band(std::size_t count, const Task& task) {
  std::vector<std::exception_ptr> errors(count);
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < count; ++i) {
    workers.emplace_back([&, i] {
      try {
        task(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  try {
    task(0);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& w : workers) {
    w.join();
  }
  for (const auto& e : errors) {
    if (e) {
      std::rethrow_exception(e);
    }
  }
}

}  // namespace

std::string encode_png_bands(const pixel_image& image, int compress_level,
                             const std::string& text_chunk_bytes, int threads) {
  static constexpr std::uint8_t color_types[] = {0, 4, 2, 6};
  const int count = std::clamp(threads, 1, std::max(1, image.height / 16));
  std::vector<band> bands(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    bands[i].first_row = static_cast<int>(static_cast<long long>(image.height) * i / count);
    bands[i].rows = static_cast<int>(static_cast<long long>(image.height) * (i + 1) / count) -
                    bands[i].first_row;
  }
  for_each_band(bands.size(), [&](std::size_t i) { filter_band(image, bands[i]); });
  for_each_band(bands.size(), [&](std::size_t i) {
    deflate_band(compress_level, bands[i], i == 0 ? nullptr : &bands[i - 1], i + 1 == bands.size());
  });

  uLong adler = bands[0].adler;
  std::size_t deflated_size = 0;
  for (std::size_t i = 0; i < bands.size(); ++i) {
    if (i > 0) {
      adler =
          adler32_combine(adler, bands[i].adler, static_cast<z_off_t>(bands[i].filtered.size()));
    }
    deflated_size += bands[i].deflated.size();
  }
  std::string zlib_stream;
  zlib_stream.reserve(deflated_size + 6);
  // CMF 0x78 (deflate, 32 KiB window); FLG with the level hint and FCHECK so that
  // (CMF*256 + FLG) % 31 == 0.
  const int level_hint = compress_level < 2    ? 0
                         : compress_level < 6  ? 1
                         : compress_level == 6 ? 2
                                               : 3;
  int flg = level_hint << 6;
  flg += 31 - ((0x78 * 256 + flg) % 31);
  zlib_stream.push_back(static_cast<char>(0x78));
  zlib_stream.push_back(static_cast<char>(flg));
  for (const auto& b : bands) {
    zlib_stream.append(reinterpret_cast<const char*>(b.deflated.data()), b.deflated.size());
  }
  append_u32(zlib_stream, static_cast<std::uint32_t>(adler));

  std::string out;
  out.reserve(zlib_stream.size() + text_chunk_bytes.size() + 128);
  out.append("\x89PNG\r\n\x1a\n", 8);
  std::uint8_t ihdr[13];
  const auto put = [&](int at, std::uint32_t v) {
    ihdr[at] = static_cast<std::uint8_t>(v >> 24);
    ihdr[at + 1] = static_cast<std::uint8_t>(v >> 16);
    ihdr[at + 2] = static_cast<std::uint8_t>(v >> 8);
    ihdr[at + 3] = static_cast<std::uint8_t>(v);
  };
  put(0, static_cast<std::uint32_t>(image.width));
  put(4, static_cast<std::uint32_t>(image.height));
  ihdr[8] = 8;
  ihdr[9] = color_types[image.channels - 1];
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  append_chunk(out, "IHDR", ihdr, sizeof ihdr);
  out.append(text_chunk_bytes);
  // IDAT chunks of at most 1 MiB, as common encoders write them.
  constexpr std::size_t kIdat = std::size_t{1} << 20;
  const auto* z = reinterpret_cast<const std::uint8_t*>(zlib_stream.data());
  for (std::size_t offset = 0; offset < zlib_stream.size(); offset += kIdat) {
    append_chunk(out, "IDAT", z + offset, std::min(kIdat, zlib_stream.size() - offset));
  }
  append_chunk(out, "IEND", nullptr, 0);
  return out;
}

}  // namespace comfydist::image::detail
