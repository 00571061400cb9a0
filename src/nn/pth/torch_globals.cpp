// Whitelisted globals of torch.save's state-dict pickles and their data-only stand-ins.
#include "nn/pth/torch_globals.hpp"

#include <array>
#include <stdexcept>
#include <utility>

namespace comfydist::nn::pth {

namespace {

using checkpoint::stored_dtype;

constexpr std::size_t max_dims = 16;

struct storage_type {
  const char* name;
  stored_dtype dtype;
};

// Integer storages appear in harmless state-dict entries (e.g. BatchNorm's num_batches_tracked).
constexpr std::array<storage_type, 10> storage_types = {{
    {"torch.FloatStorage", stored_dtype::f32},
    {"torch.HalfStorage", stored_dtype::f16},
    {"torch.BFloat16Storage", stored_dtype::bf16},
    {"torch.DoubleStorage", stored_dtype::f64},
    {"torch.LongStorage", stored_dtype::i64},
    {"torch.IntStorage", stored_dtype::i32},
    {"torch.ShortStorage", stored_dtype::i16},
    {"torch.CharStorage", stored_dtype::i8},
    {"torch.ByteStorage", stored_dtype::u8},
    {"torch.BoolStorage", stored_dtype::boolean},
}};

constexpr std::array<const char*, 4> callables = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
};

[[noreturn]] void fail(const std::string& file, const std::string& why) {
  throw std::invalid_argument("cannot read the pickle in '" + file + "': " + why);
}

const py_value& tuple_arg(const pickle_result& result, std::size_t args, const std::string& file,
                          const std::string& what) {
  const py_value& value = result.at(args);
  if (value.type != py_type::tuple) {
    fail(file, what + " needs a tuple of arguments");
  }
  return value;
}

std::int64_t int_item(const pickle_result& result, std::size_t index, const std::string& file,
                      const std::string& what) {
  const py_value& value = result.at(index);
  if (value.type != py_type::integer) {
    fail(file, what + " must be an integer");
  }
  return value.integer;
}

std::vector<std::int64_t> int_tuple(const pickle_result& result, std::size_t index,
                                    const std::string& file, const std::string& what) {
  const py_value& value = result.at(index);
  if (value.type != py_type::tuple || value.items.size() > max_dims) {
    fail(file, what + " must be a tuple of at most 16 integers");
  }
  std::vector<std::int64_t> out;
  for (std::size_t item : value.items) {
    const std::int64_t v = int_item(result, item, file, what);
    if (v < 0) {
      fail(file, what + " must not be negative");
    }
    out.push_back(v);
  }
  return out;
}

std::size_t add(pickle_result& result, py_value value) {
  result.objects.push_back(std::move(value));
  return result.objects.size() - 1;
}

std::size_t rebuild_tensor(pickle_result& result, const py_value& args, const std::string& file) {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  if (args.items.size() < 4 || args.items.size() > 7) {
    fail(file,
         "_rebuild_tensor_v2 called with " + std::to_string(args.items.size()) + " arguments");
  }
  const py_value& storage = result.at(args.items[0]);
  if (storage.type != py_type::storage) {
    fail(file, "_rebuild_tensor_v2 needs a storage");
  }
  tensor_ref tensor;
  tensor.storage = static_cast<std::size_t>(storage.integer);
  tensor.offset = int_item(result, args.items[1], file, "tensor offset");
  if (tensor.offset < 0) {
    fail(file, "negative tensor offset");
  }
  tensor.size = int_tuple(result, args.items[2], file, "tensor size");
  tensor.stride = int_tuple(result, args.items[3], file, "tensor stride");
  if (tensor.size.size() != tensor.stride.size()) {
    fail(file, "tensor size and stride differ in length");
  }
  result.tensors.push_back(std::move(tensor));
  py_value value;
  value.type = py_type::tensor;
  value.integer = static_cast<std::int64_t>(result.tensors.size() - 1);
  return add(result, std::move(value));
}

}  // namespace

void check_global(const std::string& module, const std::string& name, const std::string& file) {
  const std::string full = module + "." + name;
  for (const char* allowed : callables) {
    if (full == allowed) {
      return;
    }
  }
  for (const auto& type : storage_types) {
    if (full == type.name) {
      return;
    }
  }
  throw std::invalid_argument("refusing to load '" + file + "': the pickle asks for " + full +
                              ", which is not part of a plain state dict; nothing was executed");
}

std::size_t reduce(pickle_result& result, std::size_t callable, std::size_t args,
                   const std::string& file) {
  const py_value& function = result.at(callable);
  if (function.type != py_type::global) {
    fail(file, "REDUCE on something that is not a whitelisted function");
  }
  const std::string name = function.text;
  const py_value& arguments = tuple_arg(result, args, file, name);
  if (name == "collections.OrderedDict") {
    if (!arguments.items.empty()) {
      fail(file, "OrderedDict with constructor arguments");
    }
    py_value dict;
    dict.type = py_type::dict;
    return add(result, std::move(dict));
  }
  if (name == "torch._utils._rebuild_tensor_v2") {
    return rebuild_tensor(result, arguments, file);
  }
  if (name == "torch._utils._rebuild_parameter" ||
      name == "torch._utils._rebuild_parameter_with_state") {
    // (data, requires_grad, backward_hooks[, state]): the parameter is its tensor.
    if (arguments.items.empty() || result.at(arguments.items[0]).type != py_type::tensor) {
      fail(file, name + " needs a tensor");
    }
    return arguments.items[0];
  }
  fail(file, name + " cannot be called");
}

std::size_t persistent_load(pickle_result& result, std::size_t pid, const std::string& file) {
  const py_value& id = result.at(pid);
  if (id.type != py_type::tuple || id.items.size() != 5 ||
      result.at(id.items[0]).type != py_type::string || result.at(id.items[0]).text != "storage") {
    fail(file, "persistent id is not a ('storage', type, key, location, numel) tuple");
  }
  const py_value& type = result.at(id.items[1]);
  const py_value& key = result.at(id.items[2]);
  if (type.type != py_type::global || key.type != py_type::string || key.text.size() > 64) {
    fail(file, "bad storage reference");
  }
  storage_ref storage;
  storage.key = key.text;
  bool known = false;
  for (const auto& candidate : storage_types) {
    if (type.text == candidate.name) {
      storage.dtype = candidate.dtype;
      known = true;
    }
  }
  if (!known) {
    fail(file, "storage of unknown type " + type.text);
  }
  const std::int64_t numel = int_item(result, id.items[4], file, "storage size");
  if (numel < 0) {
    fail(file, "negative storage size");
  }
  storage.numel = static_cast<std::uint64_t>(numel);
  result.storages.push_back(std::move(storage));
  py_value value;
  value.type = py_type::storage;
  value.integer = static_cast<std::int64_t>(result.storages.size() - 1);
  return add(result, std::move(value));
}

}  // namespace comfydist::nn::pth
