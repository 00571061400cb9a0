// The contract between the executor and a node class: its ComfyUI schema (the object_info entry),
// a factory for instances, and the optional hooks ComfyUI nodes may define (VALIDATE_INPUTS,
// IS_CHANGED). Adding a node never touches the executor.
#pragma once

#include "common/json.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/node_environment.hpp"
#include "engine/node_error.hpp"
#include "engine/node_value.hpp"

namespace comfydist::engine {

// The resolved inputs of one call, by input name. Accessors throw node_error("ValueError") when
// an input is missing or of another kind, which validation normally rules out.
class node_inputs {
 public:
  std::map<std::string, node_value> values;

  bool has(const std::string& name) const;
  std::int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  image_ptr get_image(const std::string& name) const;
  mask_ptr get_mask(const std::string& name) const;
  std::shared_ptr<const opaque_value> get_opaque(const std::string& name) const;
};

// What a node sees of the running prompt besides its inputs.
class node_context {
 public:
  virtual ~node_context() = default;
  virtual const node_environment& environment() const = 0;
  virtual const std::string& node_id() const = 0;
  virtual const std::string& prompt_id() const = 0;
  // The validated prompt (hidden input PROMPT) and extra_data.extra_pnginfo (EXTRA_PNGINFO).
  virtual const json& prompt() const = 0;
  virtual const json& extra_pnginfo() const = 0;
  // Reports progress (ComfyUI's ProgressBar) and throws interrupted_error if the prompt was
  // interrupted. Long loops call it (or check_interrupt) often.
  virtual void progress(std::int64_t value, std::int64_t max) = 0;
  virtual void check_interrupt() = 0;
};

struct node_result {
  std::vector<node_value> outputs;
  // The node's `ui` dict (e.g. {"images": [...]}) or null.
  json ui;
};

class node_instance {
 public:
  virtual ~node_instance() = default;
  virtual node_result execute(const node_inputs& inputs, node_context& context) = 0;
};

struct node_definition {
  // The object_info entry exactly as ComfyUI serves it (keys in ComfyUI's order). Validation reads
  // input types, defaults and ranges from it, so schema and checks cannot drift apart.
  json info;
  std::function<std::unique_ptr<node_instance>()> create;
  // Refreshes dynamic parts of `info` (combo options such as the files in input/).
  std::function<void(json& info, const node_environment&)> refresh_info;
  // VALIDATE_INPUTS: called with the constant values of `validate_parameters` (missing ones are
  // null); returns an error text, or nothing when valid. The range and list checks are skipped
  // for inputs named in `validate_parameters`, as in ComfyUI.
  std::vector<std::string> validate_parameters;
  std::function<std::optional<std::string>(const json& constants, const node_environment&)>
      validate;
  // IS_CHANGED: a fingerprint of the constant inputs; a different value re-runs the node.
  std::function<std::string(const json& constants, const node_environment&)> is_changed;

  const std::string& name() const { return info.at("name").get_ref<const std::string&>(); }
  bool output_node() const { return info.value("output_node", false); }
};

}  // namespace comfydist::engine
