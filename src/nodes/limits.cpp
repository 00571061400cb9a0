// The size check every node runs before allocating an output tensor, and the memory limit of a
// network run.
#include "nodes/limits.hpp"

#include <unistd.h>

#include <climits>
#include <fstream>
#include <string>

#include "engine/node_error.hpp"

namespace comfydist::nodes {

void check_tensor_size(std::int64_t batch, std::int64_t height, std::int64_t width,
                       std::int64_t channels) {
  const std::string shape = std::to_string(batch) + "x" + std::to_string(height) + "x" +
                            std::to_string(width) + "x" + std::to_string(channels);
  std::uint64_t total = 1;
  for (const std::int64_t dim : {batch, height, width, channels}) {
    if (dim < 0 || dim > INT_MAX) {
      throw engine::node_error("ValueError", "invalid tensor shape " + shape);
    }
    if (__builtin_mul_overflow(total, static_cast<std::uint64_t>(dim), &total)) {
      total = UINT64_MAX;
    }
  }
  if (total > max_tensor_elements) {
    throw engine::node_error(
        "ValueError", "the result would be a " + shape + " tensor (" + std::to_string(total) +
                          " values), more than this worker's limit of " +
                          std::to_string(max_tensor_elements) + " values (" +
                          std::to_string(max_tensor_elements * sizeof(float) >> 30) +
                          " GiB); use a smaller size or batch");
  }
}

std::size_t network_memory_limit() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") {
      return static_cast<std::size_t>(kib * 1024 / 2);
    }
  }
  // Without /proc (or an old kernel): half of the physical memory.
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page_size > 0) {
    return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_size) / 2;
  }
  return std::size_t{1} << 30;
}

}  // namespace comfydist::nodes
