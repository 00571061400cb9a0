// The .pth reader: finds <archive>/data.pkl in the zip, runs the safe pickle machine on it, then
// reads each tensor from its <archive>/data/<key> storage entry, checked against the entry's size.
#include "nn/pth/pth_reader.hpp"

#include <array>
#include <fstream>
#include <stdexcept>
#include <string>

#include "nn/pth/pickle_vm.hpp"
#include "nn/pth/zip_reader.hpp"

namespace comfydist::nn {

namespace {

using pth::py_type;
using pth::py_value;

constexpr std::uint64_t max_pickle_bytes = 64ULL * 1024 * 1024;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& why) {
  throw std::invalid_argument("cannot read '" + path.filename().string() + "': " + why);
}

void check_format(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    fail(path, "cannot open it");
  }
  std::array<char, 4> magic{};
  file.read(magic.data(), 4);
  if (file.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) {
    return;
  }
  if (file.gcount() >= 1 && static_cast<unsigned char>(magic[0]) == 0x80) {
    fail(path,
         "legacy (non-zip) .pth files are not supported; re-save with torch.save(..., "
         "_use_new_zipfile_serialization=True)");
  }
  fail(path, "not a PyTorch checkpoint (no zip archive and no pickle)");
}

// The state dict inside common training-checkpoint wrappers.
const py_value& unwrap(const pth::pickle_result& result, const py_value& root) {
  const py_value* current = &root;
  for (int depth = 0; depth < 4; ++depth) {
    const py_value* inner = nullptr;
    for (const char* key : {"params_ema", "params-ema", "params", "state_dict", "model", "net"}) {
      const py_value* candidate = result.dict_get(*current, key);
      if (candidate != nullptr && candidate->type == py_type::dict) {
        inner = candidate;
        break;
      }
    }
    if (inner == nullptr) {
      break;
    }
    current = inner;
  }
  return *current;
}

named_tensor materialize(pth::zip_reader& zip, const std::string& prefix,
                         const pth::pickle_result& result, const pth::tensor_ref& tensor,
                         const std::string& name) {
  const std::string what = "tensor '" + name + "'";
  const pth::storage_ref& storage = result.storages.at(tensor.storage);
  const pth::zip_entry* entry = zip.find(prefix + "data/" + storage.key);
  if (entry == nullptr) {
    throw std::invalid_argument(what + ": its storage " + prefix + "data/" + storage.key +
                                " is missing from the archive");
  }
  const std::uint64_t element = checkpoint::dtype_size(storage.dtype);
  if (checkpoint::checked_mul(storage.numel, element, what) > entry->size) {
    throw std::invalid_argument(what + ": its storage claims " + std::to_string(storage.numel) +
                                " elements but holds only " + std::to_string(entry->size) +
                                " bytes");
  }
  named_tensor out;
  std::uint64_t count = 1;
  std::uint64_t last = static_cast<std::uint64_t>(tensor.offset);  // highest element index used
  bool contiguous = true;
  std::uint64_t expected_stride = 1;
  for (std::size_t d = tensor.size.size(); d-- > 0;) {
    const auto size = static_cast<std::uint64_t>(tensor.size[d]);
    const auto stride = static_cast<std::uint64_t>(tensor.stride[d]);
    count = checkpoint::checked_mul(count, size, what);
    if (size > 1 && stride != expected_stride) {
      contiguous = false;
    }
    expected_stride = checkpoint::checked_mul(expected_stride, size, what);
    if (size > 0) {
      last += checkpoint::checked_mul(size - 1, stride, what);
    }
  }
  out.shape.assign(tensor.size.begin(), tensor.size.end());
  if (count == 0) {
    return out;
  }
  if (last >= storage.numel) {
    throw std::invalid_argument(what + " reaches element " + std::to_string(last) +
                                " of a storage with " + std::to_string(storage.numel));
  }
  const std::uint64_t span = last - static_cast<std::uint64_t>(tensor.offset) + 1;
  std::vector<float> values(static_cast<std::size_t>(span));
  checkpoint::read_as_float(
      zip.stream(), entry->data_offset + static_cast<std::uint64_t>(tensor.offset) * element,
      storage.dtype, values.size(), values.data(), what);
  if (contiguous) {
    out.values = std::move(values);
    return out;
  }
  // A strided view: gather it into row-major order.
  out.values.resize(static_cast<std::size_t>(count));
  std::vector<std::int64_t> index(tensor.size.size(), 0);
  for (auto& value : out.values) {
    std::uint64_t source = 0;
    for (std::size_t d = 0; d < index.size(); ++d) {
      source += static_cast<std::uint64_t>(index[d] * tensor.stride[d]);
    }
    value = values[static_cast<std::size_t>(source)];
    for (std::size_t d = index.size(); d-- > 0;) {
      if (++index[d] < tensor.size[d]) {
        break;
      }
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace

state_dict read_pth(const std::filesystem::path& path) {
  check_format(path);
  pth::zip_reader zip(path);
  const pth::zip_entry* pickle_entry = nullptr;
  for (const auto& entry : zip.entries()) {
    const std::size_t slash = entry.name.find('/');
    if (slash != std::string::npos && entry.name.substr(slash) == "/data.pkl") {
      pickle_entry = &entry;
      break;
    }
  }
  if (pickle_entry == nullptr) {
    fail(path, "the archive has no <name>/data.pkl (not a torch.save checkpoint)");
  }
  const std::string prefix = pickle_entry->name.substr(0, pickle_entry->name.size() - 8);
  if (const pth::zip_entry* order = zip.find(prefix + "byteorder"); order != nullptr) {
    if (zip.read(*order, 16) != "little") {
      fail(path, "big-endian checkpoints are not supported");
    }
  }
  const std::string pickle = zip.read(*pickle_entry, max_pickle_bytes);
  const pth::pickle_result result = pth::run_pickle(pickle, path.filename().string());
  const py_value& dict = unwrap(result, result.at(result.root));
  if (dict.type != py_type::dict) {
    fail(path, "the pickle holds no dict of tensors");
  }
  state_dict out;
  for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const py_value& key = result.at(dict.items[i]);
    const py_value& value = result.at(dict.items[i + 1]);
    if (key.type != py_type::string || value.type != py_type::tensor) {
      continue;
    }
    try {
      out.insert_or_assign(
          key.text,
          materialize(zip, prefix, result,
                      result.tensors.at(static_cast<std::size_t>(value.integer)), key.text));
    } catch (const std::invalid_argument& e) {
      fail(path, e.what());
    }
  }
  return out;
}

}  // namespace comfydist::nn
