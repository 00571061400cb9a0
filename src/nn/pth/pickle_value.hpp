// The objects a safe pickle machine can build for a PyTorch state dict: plain values, containers,
// whitelisted globals, and tensor/storage references into the archive. Objects live in an arena
// and refer to each other by index, so hostile cycles cannot leak or recurse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nn/checkpoint/stored_tensor.hpp"

namespace comfydist::nn::pth {

enum class py_type {
  none,
  boolean,
  integer,
  floating,
  string,
  tuple,
  list,
  dict,
  global,
  storage,
  tensor
};

struct storage_ref {
  std::string key;  // the file name under <archive>/data/
  checkpoint::stored_dtype dtype = checkpoint::stored_dtype::f32;
  std::uint64_t numel = 0;
};

struct tensor_ref {
  std::size_t storage = 0;  // index into pickle_result::storages
  std::int64_t offset = 0;  // in elements
  std::vector<std::int64_t> size;
  std::vector<std::int64_t> stride;
};

struct py_value {
  py_type type = py_type::none;
  std::int64_t integer = 0;  // integer, boolean; storage/tensor: index into their tables
  double floating = 0.0;
  std::string text;                // string; global: "module.name"
  std::vector<std::size_t> items;  // tuple/list elements; dict: key, value, key, value...
};

struct pickle_result {
  std::vector<py_value> objects;
  std::vector<storage_ref> storages;
  std::vector<tensor_ref> tensors;
  std::size_t root = 0;  // the unpickled object

  const py_value& at(std::size_t index) const { return objects.at(index); }
  // The value stored under a string key of a dict object, or nullptr.
  const py_value* dict_get(const py_value& dict, const std::string& key) const;
};

}  // namespace comfydist::nn::pth
