// The value carried on a link or given as a constant: a primitive, an IMAGE, a MASK, or an opaque
// object of another type (e.g. UPSCALE_MODEL) that only the nodes producing and consuming it know.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "engine/tensor.hpp"

namespace comfydist::engine {

struct opaque_value {
  std::string type;  // the ComfyUI type name, e.g. "UPSCALE_MODEL"
  std::shared_ptr<const void> object;
  std::size_t byte_size = 0;  // for the cache's memory accounting
};

using node_value = std::variant<std::monostate, std::int64_t, double, bool, std::string, image_ptr,
                                mask_ptr, std::shared_ptr<const opaque_value>>;

std::size_t value_byte_size(const node_value& value);

// What ComfyUI's execution_error shows for an input: numbers, strings and booleans as themselves,
// tensors as a short description.
std::string describe_value(const node_value& value);

}  // namespace comfydist::engine
