// Reading tensor data stored in a checkpoint file (little-endian f32, f16, bf16, f64 and a few
// integer types) into float32, straight from the file in bounded chunks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

namespace comfydist::nn::checkpoint {

enum class stored_dtype { f32, f16, bf16, f64, i64, i32, i16, i8, u8, boolean };

std::size_t dtype_size(stored_dtype type);
std::string_view dtype_name(stored_dtype type);

float half_to_float(std::uint16_t bits);
float bfloat16_to_float(std::uint16_t bits);

// Reads `count` values of `type` from byte `offset` of `file` into `out`, converting to float.
// The caller has checked that the range lies inside the file; a short read (the file changed
// underneath) throws std::invalid_argument naming `what`.
void read_as_float(std::ifstream& file, std::uint64_t offset, stored_dtype type, std::size_t count,
                   float* out, const std::string& what);

// a × b, throwing std::invalid_argument naming `what` when the product overflows 64 bits.
std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::string& what);

}  // namespace comfydist::nn::checkpoint
