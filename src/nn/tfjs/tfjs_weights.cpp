// Walks the weights manifest in order: within a group, tensors lie back to back across the
// group's shards concatenated in `paths` order.
#include "nn/tfjs/tfjs_weights.hpp"

#include <cstring>
#include <fstream>
#include <stdexcept>

#include "common/safe_path.hpp"

namespace comfydist::nn::tfjs {
namespace {

namespace fs = std::filesystem;

// Larger than any upscaler (esrgan-thick ×8 holds about 30 MB of weights).
constexpr std::uintmax_t max_group_bytes = std::uintmax_t{2} << 30;
constexpr std::size_t max_dims = 8;

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument("model.json: " + what);
}

std::vector<std::int64_t> parse_shape(const nlohmann::json& shape, const std::string& name,
                                      std::uintmax_t& elements) {
  if (!shape.is_array() || shape.size() > max_dims) {
    fail("weight '" + name + "' has no valid shape");
  }
  std::vector<std::int64_t> dims;
  elements = 1;
  for (const auto& d : shape) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 0 ||
        d.get<std::int64_t>() > (std::int64_t{1} << 31)) {
      fail("weight '" + name + "' has an invalid dimension");
    }
    dims.push_back(d.get<std::int64_t>());
    elements *= static_cast<std::uintmax_t>(dims.back());
    if (elements > max_group_bytes) {
      fail("weight '" + name + "' is too large");
    }
  }
  return dims;
}

std::vector<char> read_group(const nlohmann::json& paths, const fs::path& folder,
                             std::uintmax_t needed) {
  if (!paths.is_array()) {
    fail("a weights group has no 'paths' list");
  }
  std::vector<char> bytes;
  bytes.reserve(static_cast<std::size_t>(needed));
  for (const auto& p : paths) {
    if (!p.is_string()) {
      fail("a shard path is not a string");
    }
    const std::string rel = p.get<std::string>();
    const auto shard = confine_path(folder, rel);
    if (!shard) {
      fail("shard path '" + rel + "' leaves the model folder");
    }
    std::error_code ec;
    if (!fs::is_regular_file(*shard, ec)) {
      fail("weight shard '" + rel + "' is missing (" + shard->string() + ")");
    }
    const std::uintmax_t size = fs::file_size(*shard, ec);
    if (ec) {
      fail("cannot read weight shard '" + rel + "'");
    }
    if (bytes.size() + size > max_group_bytes) {
      fail("weight shards are too large");
    }
    std::ifstream in(*shard, std::ios::binary);
    const std::size_t at = bytes.size();
    bytes.resize(at + static_cast<std::size_t>(size));
    if (!in.read(bytes.data() + at, static_cast<std::streamsize>(size))) {
      fail("cannot read weight shard '" + rel + "'");
    }
  }
  if (bytes.size() != needed) {
    fail("weight shards hold " + std::to_string(bytes.size()) + " bytes but the manifest needs " +
         std::to_string(needed) + (bytes.size() < needed ? " (truncated shard?)" : ""));
  }
  return bytes;
}

}  // namespace

std::map<std::string, tfjs_tensor> read_weights(const nlohmann::json& manifest,
                                                const fs::path& folder) {
  if (!manifest.is_array()) {
    fail("'weightsManifest' is missing or not a list");
  }
  std::map<std::string, tfjs_tensor> tensors;
  for (const auto& group : manifest) {
    if (!group.is_object() || !group.contains("weights") || !group["weights"].is_array()) {
      fail("a weights group has no 'weights' list");
    }
    struct entry {
      std::string name;
      std::vector<std::int64_t> shape;
      std::uintmax_t elements = 0;
    };
    std::vector<entry> entries;
    std::uintmax_t needed = 0;
    for (const auto& w : group["weights"]) {
      if (!w.is_object() || !w.contains("name") || !w["name"].is_string()) {
        fail("a weight entry has no name");
      }
      entry e;
      e.name = w["name"].get<std::string>();
      const std::string dtype = w.value("dtype", std::string("float32"));
      if (dtype != "float32" || w.contains("quantization")) {
        fail("weight '" + e.name + "' has unsupported dtype '" + dtype +
             (w.contains("quantization") ? "' (quantized)" : "'"));
      }
      e.shape = parse_shape(w.value("shape", nlohmann::json()), e.name, e.elements);
      needed += e.elements * sizeof(float);
      if (needed > max_group_bytes) {
        fail("weights are too large");
      }
      entries.push_back(std::move(e));
    }
    const std::vector<char> bytes =
        read_group(group.value("paths", nlohmann::json()), folder, needed);
    std::size_t offset = 0;
    for (entry& e : entries) {
      tfjs_tensor t;
      t.shape = std::move(e.shape);
      t.values.resize(static_cast<std::size_t>(e.elements));
      // Shards are little-endian float32, as is every host this runs on.
      if (!t.values.empty()) {
        std::memcpy(t.values.data(), bytes.data() + offset, t.values.size() * sizeof(float));
      }
      offset += t.values.size() * sizeof(float);
      if (!tensors.emplace(e.name, std::move(t)).second) {
        fail("weight '" + e.name + "' appears twice");
      }
    }
  }
  return tensors;
}

}  // namespace comfydist::nn::tfjs
