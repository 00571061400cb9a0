// A png_stream_writer fed from another thread: the producer hands over 8-bit bands and goes on
// computing the next one while this thread deflates the last, so on two cores a tiled job's blend
// and its PNG overlap instead of adding up. At most two bands wait and one is being written, which
// bounds the memory.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "image/png_files.hpp"

namespace comfydist::image {

class png_background_writer {
 public:
  // Takes over `png` (already started) until finish().
  explicit png_background_writer(png_stream_writer& png);
  // Stops the thread; the file stays unfinished (png_stream_writer removes it) unless finish().
  ~png_background_writer();
  png_background_writer(const png_background_writer&) = delete;
  png_background_writer& operator=(const png_background_writer&) = delete;

  // Whole rows, as png_stream_writer::write_rows takes them. Blocks while two bands wait;
  // rethrows what the writer threw on an earlier band.
  void push(std::vector<std::uint8_t> rows);
  // Waits for every band to be written, then finishes the file; rethrows the writer's error.
  void finish();

 private:
  void run();

  png_stream_writer& png_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<std::uint8_t>> bands_;
  std::exception_ptr error_;
  bool writing_ = false;
  bool closing_ = false;
  std::thread thread_;
};

}  // namespace comfydist::image
