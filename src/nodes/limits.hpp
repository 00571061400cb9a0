// Bounds on what one node may allocate, so that hostile or careless inputs fail with a clear
// error instead of exhausting memory.
#pragma once

#include <cstddef>
#include <cstdint>

namespace comfydist::nodes {

// The largest tensor a node may create: 2^30 float32 values (4 GiB). EmptyImage at its schema
// maximum (4096×16384×16384×3) would need 12 TiB.
inline constexpr std::uint64_t max_tensor_elements = std::uint64_t{1} << 30;

// Throws engine::node_error("ValueError") when a tensor of these dimensions would exceed
// max_tensor_elements or a dimension is negative or too large for an int.
void check_tensor_size(std::int64_t batch, std::int64_t height, std::int64_t width,
                       std::int64_t channels);

// The working memory one network run (one upscale tile) may use: half of the memory the system
// reports available (MemAvailable) when asked, so that a tile which would swap or trip the OOM
// killer is halved first, as ComfyUI halves tiles on out-of-memory.
std::size_t network_memory_limit();

}  // namespace comfydist::nodes
