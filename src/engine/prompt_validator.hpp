// Validation of an API-format prompt against the registered node classes, with ComfyUI's error
// types, messages and node_errors shape (comfyui-api.md §2.6). Constant inputs are coerced in
// place, as ComfyUI does, so the executor and the saved PNG metadata see the coerced values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "engine/error_object.hpp"
#include "engine/node_registry.hpp"

namespace comfydist::engine {

struct validation_result {
  bool ok = false;
  std::optional<error_object> error;  // set when !ok
  std::vector<std::string> outputs;   // output node ids that passed, in prompt order
  json node_errors = json::object();
};

// `prompt` must be a JSON object (node id → node); the caller checks that.
validation_result validate_prompt(json& prompt,
                                  const std::optional<std::vector<std::string>>& partial_targets,
                                  const node_registry& registry,
                                  const node_environment& environment);

// True for [str, int] – ComfyUI's is_link().
bool is_link(const json& value);

}  // namespace comfydist::engine
