// Working-memory accounting for one run: 64-byte aligned buffers whose bytes are counted while
// alive, with the peak kept. Allocation failure throws std::bad_alloc.
#pragma once

#include <cstddef>
#include <memory>

namespace comfydist::nn::onednn {

class memory_tracker {
 public:
  void add(std::size_t bytes) {
    current_ += bytes;
    if (current_ > peak_) {
      peak_ = current_;
    }
  }
  void remove(std::size_t bytes) { current_ -= bytes; }
  std::size_t peak() const { return peak_; }

 private:
  std::size_t current_ = 0;
  std::size_t peak_ = 0;
};

class tracked_buffer {
 public:
  tracked_buffer(std::size_t bytes, memory_tracker& tracker);
  ~tracked_buffer();
  tracked_buffer(const tracked_buffer&) = delete;
  tracked_buffer& operator=(const tracked_buffer&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  memory_tracker& tracker_;
};

using buffer_ptr = std::shared_ptr<tracked_buffer>;

inline buffer_ptr allocate_buffer(std::size_t bytes, memory_tracker& tracker) {
  return std::make_shared<tracked_buffer>(bytes, tracker);
}

}  // namespace comfydist::nn::onednn
