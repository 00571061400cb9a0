// The size check every node runs before allocating an output tensor.
#include "nodes/limits.hpp"

#include <climits>
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

}  // namespace comfydist::nodes
