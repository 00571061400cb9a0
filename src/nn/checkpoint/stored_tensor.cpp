// Conversion of stored tensor bytes to float32, read in chunks so that a large checkpoint needs
// no second full-size buffer besides the floats themselves.
#include "nn/checkpoint/stored_tensor.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

namespace comfydist::nn::checkpoint {

static_assert(std::endian::native == std::endian::little,
              "checkpoint readers assume a little-endian host");

std::size_t dtype_size(stored_dtype type) {
  switch (type) {
    case stored_dtype::f64:
    case stored_dtype::i64:
      return 8;
    case stored_dtype::f32:
    case stored_dtype::i32:
      return 4;
    case stored_dtype::f16:
    case stored_dtype::bf16:
    case stored_dtype::i16:
      return 2;
    case stored_dtype::i8:
    case stored_dtype::u8:
    case stored_dtype::boolean:
      return 1;
  }
  return 1;
}

std::string_view dtype_name(stored_dtype type) {
  switch (type) {
    case stored_dtype::f32:
      return "float32";
    case stored_dtype::f16:
      return "float16";
    case stored_dtype::bf16:
      return "bfloat16";
    case stored_dtype::f64:
      return "float64";
    case stored_dtype::i64:
      return "int64";
    case stored_dtype::i32:
      return "int32";
    case stored_dtype::i16:
      return "int16";
    case stored_dtype::i8:
      return "int8";
    case stored_dtype::u8:
      return "uint8";
    case stored_dtype::boolean:
      return "bool";
  }
  return "?";
}

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000U) << 16;
  std::uint32_t exponent = (bits >> 10) & 0x1FU;
  std::uint32_t mantissa = bits & 0x3FFU;
  std::uint32_t out = 0;
  if (exponent == 0x1FU) {
    out = sign | 0x7F800000U | (mantissa << 13);
  } else if (exponent != 0) {
    out = sign | ((exponent + 112U) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    out = sign;
  } else {
    // Subnormal half: normalise into a float exponent.
    exponent = 113U;
    while ((mantissa & 0x400U) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    out = sign | (exponent << 23) | ((mantissa & 0x3FFU) << 13);
  }
  return std::bit_cast<float>(out);
}

float bfloat16_to_float(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

namespace {

template <typename T>
T load(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

float convert_one(const char* p, stored_dtype type) {
  switch (type) {
    case stored_dtype::f32:
      return load<float>(p);
    case stored_dtype::f16:
      return half_to_float(load<std::uint16_t>(p));
    case stored_dtype::bf16:
      return bfloat16_to_float(load<std::uint16_t>(p));
    case stored_dtype::f64:
      return static_cast<float>(load<double>(p));
    case stored_dtype::i64:
      return static_cast<float>(load<std::int64_t>(p));
    case stored_dtype::i32:
      return static_cast<float>(load<std::int32_t>(p));
    case stored_dtype::i16:
      return static_cast<float>(load<std::int16_t>(p));
    case stored_dtype::i8:
      return static_cast<float>(load<std::int8_t>(p));
    case stored_dtype::u8:
      return static_cast<float>(load<std::uint8_t>(p));
    case stored_dtype::boolean:
      return *p != 0 ? 1.0F : 0.0F;
  }
  return 0.0F;
}

void read_exact(std::ifstream& file, char* out, std::size_t bytes, const std::string& what) {
  file.read(out, static_cast<std::streamsize>(bytes));
  if (static_cast<std::size_t>(file.gcount()) != bytes) {
    file.clear();
    throw std::invalid_argument("unexpected end of file while reading " + what);
  }
}

}  // namespace

void read_as_float(std::ifstream& file, std::uint64_t offset, stored_dtype type, std::size_t count,
                   float* out, const std::string& what) {
  if (offset > static_cast<std::uint64_t>(std::numeric_limits<std::streamoff>::max())) {
    throw std::invalid_argument("offset out of range while reading " + what);
  }
  file.clear();
  file.seekg(static_cast<std::streamoff>(offset));
  if (!file) {
    file.clear();
    throw std::invalid_argument("cannot seek to the data of " + what);
  }
  if (type == stored_dtype::f32) {
    read_exact(file, reinterpret_cast<char*>(out), count * sizeof(float), what);
    return;
  }
  const std::size_t size = dtype_size(type);
  constexpr std::size_t chunk_values = 1 << 16;
  std::vector<char> buffer(std::min(count, chunk_values) * size);
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(count - done, chunk_values);
    read_exact(file, buffer.data(), n * size, what);
    for (std::size_t i = 0; i < n; ++i) {
      out[done + i] = convert_one(buffer.data() + i * size, type);
    }
    done += n;
  }
}

std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::string& what) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) {
    throw std::invalid_argument(what + ": size overflows");
  }
  return a * b;
}

}  // namespace comfydist::nn::checkpoint
