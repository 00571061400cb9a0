// Aligned, accounted buffers for activations and scratchpads.
#include "nn/onednn/memory_tracker.hpp"

#include <cstdlib>
#include <new>

namespace comfydist::nn::onednn {

tracked_buffer::tracked_buffer(std::size_t bytes, memory_tracker& tracker)
    : bytes_(bytes), tracker_(tracker) {
  constexpr std::size_t align = 64;
  // aligned_alloc wants a multiple of the alignment; a zero-byte tensor still gets a real block.
  const std::size_t rounded = (bytes + align - 1) / align * align + align;
  if (rounded < bytes) {
    throw std::bad_alloc();
  }
  data_ = std::aligned_alloc(align, rounded);
  if (data_ == nullptr) {
    throw std::bad_alloc();
  }
  tracker_.add(bytes_);
}

tracked_buffer::~tracked_buffer() {
  std::free(data_);
  tracker_.remove(bytes_);
}

}  // namespace comfydist::nn::onednn
