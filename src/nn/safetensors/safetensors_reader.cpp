// The .safetensors reader: every header field is checked against the file before any tensor data
// is read, so hostile headers fail with a message instead of reading out of bounds.
#include "nn/safetensors/safetensors_reader.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "nn/checkpoint/stored_tensor.hpp"

namespace comfydist::nn {

namespace {

using checkpoint::stored_dtype;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& why) {
  throw std::invalid_argument("cannot read safetensors file '" + path.filename().string() +
                              "': " + why);
}

stored_dtype parse_dtype(const std::string& name, const std::filesystem::path& path,
                         const std::string& tensor) {
  static const std::array<std::pair<const char*, stored_dtype>, 10> known = {{
      {"F32", stored_dtype::f32},
      {"F16", stored_dtype::f16},
      {"BF16", stored_dtype::bf16},
      {"F64", stored_dtype::f64},
      {"I64", stored_dtype::i64},
      {"I32", stored_dtype::i32},
      {"I16", stored_dtype::i16},
      {"I8", stored_dtype::i8},
      {"U8", stored_dtype::u8},
      {"BOOL", stored_dtype::boolean},
  }};
  for (const auto& [text, type] : known) {
    if (name == text) {
      return type;
    }
  }
  fail(path, "tensor '" + tensor + "' has unsupported dtype '" + name + "'");
}

std::uint64_t non_negative(const nlohmann::json& value, const std::filesystem::path& path,
                           const std::string& what) {
  if (value.is_number_unsigned()) {
    return value.get<std::uint64_t>();
  }
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  }
  fail(path, what + " must be a non-negative integer");
}

}  // namespace

state_dict read_safetensors(const std::filesystem::path& path) {
  std::error_code ec;
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) {
    fail(path, ec.message());
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    fail(path, "cannot open it");
  }
  if (file_size < 8) {
    fail(path, "the file is too short to hold a header (truncated?)");
  }
  std::array<unsigned char, 8> length_bytes{};
  file.read(reinterpret_cast<char*>(length_bytes.data()), 8);
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) {
    header_length = (header_length << 8) | length_bytes[static_cast<std::size_t>(i)];
  }
  if (header_length > max_safetensors_header_bytes) {
    fail(path, "header length " + std::to_string(header_length) + " exceeds the limit of " +
                   std::to_string(max_safetensors_header_bytes) + " bytes (corrupt file?)");
  }
  if (header_length > file_size - 8) {
    fail(path, "header length " + std::to_string(header_length) + " runs past the end of the " +
                   std::to_string(file_size) + "-byte file (truncated?)");
  }
  std::string header_text(header_length, '\0');
  file.read(header_text.data(), static_cast<std::streamsize>(header_length));
  if (static_cast<std::uint64_t>(file.gcount()) != header_length) {
    fail(path, "unexpected end of file in the header");
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("the header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) {
    fail(path, "the header is not a JSON object");
  }
  const std::uint64_t data_start = 8 + header_length;
  const std::uint64_t data_size = file_size - data_start;

  state_dict result;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      continue;
    }
    const std::string what = "tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() ||
        !entry.contains("shape") || !entry["shape"].is_array() || !entry.contains("data_offsets") ||
        !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2) {
      fail(path, what + " needs a string dtype, a shape array and two data_offsets");
    }
    const stored_dtype type = parse_dtype(entry["dtype"].get<std::string>(), path, name);
    named_tensor tensor;
    std::uint64_t count = 1;
    for (const auto& dim : entry["shape"]) {
      const std::uint64_t d = non_negative(dim, path, what + " shape entries");
      count = checkpoint::checked_mul(count, d, what);
      tensor.shape.push_back(static_cast<std::int64_t>(d));
    }
    const std::uint64_t begin = non_negative(entry["data_offsets"][0], path, what + " offsets");
    const std::uint64_t end = non_negative(entry["data_offsets"][1], path, what + " offsets");
    if (begin > end || end > data_size) {
      fail(path, what + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                     "] outside the " + std::to_string(data_size) + " data bytes (truncated?)");
    }
    const std::uint64_t bytes = checkpoint::checked_mul(count, checkpoint::dtype_size(type), what);
    if (bytes != end - begin) {
      fail(path, what + " has " + std::to_string(end - begin) + " data bytes but its shape and " +
                     std::string(checkpoint::dtype_name(type)) + " dtype need " +
                     std::to_string(bytes));
    }
    tensor.values.resize(static_cast<std::size_t>(count));
    checkpoint::read_as_float(file, data_start + begin, type, tensor.values.size(),
                              tensor.values.data(), what);
    result.insert_or_assign(name, std::move(tensor));
  }
  return result;
}

}  // namespace comfydist::nn
