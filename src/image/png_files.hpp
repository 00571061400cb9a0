// PNG files written without holding the image: a writer fed rows as they are produced (libspng's
// progressive encoder), and a copy of a PNG file with text chunks added (chunk by chunk, pixels
// untouched). A tiled job's 16384² result goes to disk in bands this way.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "image/codecs.hpp"

struct spng_ctx;

namespace comfydist::image {

class png_stream_writer {
 public:
  // Starts `path` (written as path + ".part", renamed into place by finish()). 1-4 channels,
  // 8 bits; the text chunks go right after IHDR, as encode_png writes them. Throws
  // std::invalid_argument for bad sizes or text, std::runtime_error when the file cannot be made.
  png_stream_writer(std::filesystem::path path, int width, int height, int channels,
                    int compress_level, const std::vector<png_text_chunk>& text_chunks = {});
  // Removes the partial file when finish() was not reached.
  ~png_stream_writer();
  png_stream_writer(const png_stream_writer&) = delete;
  png_stream_writer& operator=(const png_stream_writer&) = delete;

  // Whole rows, top to bottom: a multiple of width × channels bytes.
  void write_rows(std::span<const std::uint8_t> rows);
  // After the last row: flushes, syncs and renames the file into place.
  void finish();

  struct output;  // the file and the header splice, shared with libspng's write callback

 private:
  std::filesystem::path path_;
  std::filesystem::path part_;
  std::size_t row_bytes_ = 0;
  int rows_left_ = 0;
  std::unique_ptr<output> out_;
  struct ctx_deleter {
    void operator()(spng_ctx* ctx) const;
  };
  std::unique_ptr<spng_ctx, ctx_deleter> ctx_;
  bool finished_ = false;
};

struct png_size {
  int width = 0;
  int height = 0;
};

// Width and height from the file's IHDR. Throws std::invalid_argument when it is not a PNG.
png_size read_png_size(const std::filesystem::path& path);

// Copies the PNG `from` to `to` (atomically: a ".part" file renamed into place) with the text
// chunks inserted right after IHDR and every other chunk as it was. Memory stays at one copy
// buffer whatever the image's size. Throws std::invalid_argument when `from` is not a PNG.
void copy_png_with_text(const std::filesystem::path& from, const std::filesystem::path& to,
                        const std::vector<png_text_chunk>& text_chunks);

}  // namespace comfydist::image
