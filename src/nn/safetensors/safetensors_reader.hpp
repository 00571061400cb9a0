// Reading a .safetensors checkpoint (u64 header length, JSON header, raw little-endian data) into
// a state dict of float32 tensors.
#pragma once

#include <cstdint>
#include <filesystem>

#include "nn/state_dict.hpp"

namespace comfydist::nn {

// The largest JSON header accepted; real headers are a few hundred kilobytes at most.
inline constexpr std::uint64_t max_safetensors_header_bytes = 100ULL * 1024 * 1024;

// Throws std::invalid_argument naming the file and the problem for anything malformed: a header
// length past the file or the limit, invalid JSON, unknown dtypes, offsets outside the data, sizes
// that disagree with the shape.
state_dict read_safetensors(const std::filesystem::path& path);

}  // namespace comfydist::nn
