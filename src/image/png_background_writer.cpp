// The writer thread behind png_background_writer.
#include "image/png_background_writer.hpp"

namespace comfydist::image {
namespace {
constexpr std::size_t kMaxWaiting = 2;
}  // namespace

png_background_writer::png_background_writer(png_stream_writer& png)
    : png_(png), thread_([this] { run(); }) {}

png_background_writer::~png_background_writer() {
  {
    const std::lock_guard lock(mutex_);
    closing_ = true;
    bands_.clear();
  }
  changed_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void png_background_writer::run() {
  for (;;) {
    std::vector<std::uint8_t> band;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return closing_ || !bands_.empty(); });
      if (bands_.empty()) {
        return;  // closing, nothing left to write
      }
      band = std::move(bands_.front());
      bands_.pop_front();
      writing_ = true;
    }
    try {
      png_.write_rows(band);
    } catch (...) {
      const std::lock_guard lock(mutex_);
      error_ = std::current_exception();
      writing_ = false;
      bands_.clear();
      changed_.notify_all();
      return;
    }
    {
      const std::lock_guard lock(mutex_);
      writing_ = false;
    }
    changed_.notify_all();
  }
}

void png_background_writer::push(std::vector<std::uint8_t> rows) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return error_ || bands_.size() < kMaxWaiting; });
  if (error_) {
    std::rethrow_exception(error_);
  }
  bands_.push_back(std::move(rows));
  changed_.notify_all();
}

void png_background_writer::finish() {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return error_ || (bands_.empty() && !writing_); });
    closing_ = true;
  }
  changed_.notify_all();
  thread_.join();
  if (error_) {
    std::rethrow_exception(error_);
  }
  png_.finish();
}

}  // namespace comfydist::image
