// The merged node catalog and the pre-flight check. Worker answers are untrusted: every access
// checks the JSON type first, because a throwing nlohmann accessor here would take down the
// master's request handling for one misbehaving worker.
#include "master/node_catalog.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "engine/python_format.hpp"

namespace comfydist::master {
namespace {

constexpr const char* kInputSections[] = {"required", "optional"};

const json* member(const json& object, const std::string& key) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const json* entry_options(const json& entry) {
  if (entry.is_array() && entry.size() > 1 && entry[1].is_object()) {
    return &entry[1];
  }
  return nullptr;
}

bool takes_uploaded_image(const json& entry) {
  const json* options = entry_options(entry);
  const json* upload = options == nullptr ? nullptr : member(*options, "image_upload");
  return upload != nullptr && upload->is_boolean() && upload->get<bool>();
}

// The option list of a combo input in either of ComfyUI's forms: [[a, b], {...}] (V1) or
// ["COMBO", {"options": [a, b]}] (V3, ComfyUI ≥ 0.3.4x); nullptr when the input is no combo.
template <typename Json>
Json* combo_options(Json& entry) {
  if (!entry.is_array() || entry.empty()) {
    return nullptr;
  }
  if (entry[0].is_array()) {
    return &entry[0];
  }
  if (entry[0] == "COMBO" && entry.size() > 1 && entry[1].is_object()) {
    const auto it = entry[1].find("options");
    if (it != entry[1].end() && it->is_array()) {
      return &*it;
    }
  }
  return nullptr;
}

// The declared entry of input `name` (required or optional), or nullptr.
const json* declared_input(const json& info, const std::string& name) {
  const json* input = member(info, "input");
  for (const char* section : kInputSections) {
    const json* declared = input == nullptr ? nullptr : member(*input, section);
    if (const json* entry = declared == nullptr ? nullptr : member(*declared, name)) {
      return entry;
    }
  }
  return nullptr;
}

bool class_takes_uploaded_image(const json& info) {
  const json* input = member(info, "input");
  for (const char* section : kInputSections) {
    const json* declared = input == nullptr ? nullptr : member(*input, section);
    if (declared != nullptr && declared->is_object()) {
      for (const auto& [name, entry] : declared->items()) {
        if (takes_uploaded_image(entry)) {
          return true;
        }
      }
    }
  }
  return false;
}

// Python's == between a prompt value and a combo option, as ComfyUI's `val not in list` compares
// them (1 == 1.0 == True).
bool same_value(const json& a, const json& b) {
  const auto numeric = [](const json& v) { return v.is_number() || v.is_boolean(); };
  if (numeric(a) && numeric(b)) {
    const auto as_double = [](const json& v) {
      return v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>();
    };
    return as_double(a) == as_double(b);
  }
  return a == b;
}

// The worker's entry made safe for the validator, which indexes `input`, `output` and
// `output_node` without checking their types; nothing when the entry is not an object.
std::optional<json> sanitized_info(const std::string& class_type, const json& raw) {
  if (!raw.is_object()) {
    return std::nullopt;
  }
  json info = raw;
  info["name"] = class_type;
  if (!info.contains("input") || !info["input"].is_object()) {
    info["input"] = json::object();
  }
  json& input = info["input"];
  for (auto it = input.begin(); it != input.end();) {
    it = it.value().is_object() ? std::next(it) : input.erase(it);
  }
  if (!info.contains("output") || !info["output"].is_array()) {
    info["output"] = json::array();
  }
  for (json& type : info["output"]) {
    if (!type.is_string()) {
      type = "*";  // kept in place so that later slots keep their indices
    }
  }
  if (!info.contains("output_node") || !info["output_node"].is_boolean()) {
    info["output_node"] = false;
  }
  return info;
}

void append_missing(json& into, const json& from) {
  for (const json& option : from) {
    const bool known = std::any_of(into.begin(), into.end(),
                                   [&](const json& existing) { return existing == option; });
    if (!known) {
      into.push_back(option);
    }
  }
}

// Folds a later worker's entry for the same class into `base` (both sanitized).
void merge_info(json& base, const json& other) {
  json& base_input = base["input"];
  for (const char* section : kInputSections) {
    const json* other_input = member(other, "input");
    const json* declared = other_input == nullptr ? nullptr : member(*other_input, section);
    if (declared == nullptr) {
      continue;
    }
    for (const auto& [name, entry] : declared->items()) {
      json* existing = nullptr;
      for (const char* base_section : kInputSections) {
        if (base_input.contains(base_section) && base_input[base_section].contains(name)) {
          existing = &base_input[base_section][name];
          break;
        }
      }
      if (existing == nullptr) {
        base_input["optional"][name] = entry;
        // input_order drives the frontend's widget order; a malformed one is left alone.
        const auto order = base.find("input_order");
        if (order != base.end() && order->is_object() &&
            (!order->contains("optional") || (*order)["optional"].is_array())) {
          (*order)["optional"].push_back(name);
        }
        continue;
      }
      json* into = combo_options(*existing);
      const json* from = combo_options(entry);
      if (into != nullptr && from != nullptr) {
        append_missing(*into, *from);
      }
    }
  }
}

std::string options_text(const json& options) {
  constexpr std::size_t kShown = 5;
  if (options.empty()) {
    return "none";
  }
  std::string text;
  for (std::size_t i = 0; i < options.size() && i < kShown; ++i) {
    text += (i == 0 ? "" : ", ") + engine::python_str(options[i]);
  }
  if (options.size() > kShown) {
    text += " and " + std::to_string(options.size() - kShown) + " more";
  }
  return text;
}

}  // namespace

node_catalog::node_catalog(const engine::node_registry& master_nodes,
                           const std::vector<std::string>& master_only,
                           const std::vector<worker_node_info>& workers) {
  std::set<std::string> from_master;
  for (const std::string& class_type : master_only) {
    const engine::node_definition* definition = master_nodes.find(class_type);
    if (definition == nullptr) {
      throw std::invalid_argument("master-only node class " + class_type +
                                  " is not registered on the master");
    }
    if (from_master.insert(class_type).second) {
      registry_.add(*definition);
    }
  }

  // In first-seen order, so that the merged object_info lists classes as the first worker does.
  json merged = json::object();
  for (const worker_node_info& worker : workers) {
    if (!worker.object_info.is_object()) {
      continue;
    }
    for (const auto& [class_type, raw] : worker.object_info.items()) {
      if (!raw.is_object() || from_master.count(class_type) > 0) {
        continue;
      }
      const engine::node_definition* own = master_nodes.find(class_type);
      if (own != nullptr &&
          (class_takes_uploaded_image(own->info) || class_takes_uploaded_image(raw))) {
        from_master.insert(class_type);
        registry_.add(*own);
        continue;
      }
      std::optional<json> info = sanitized_info(class_type, raw);
      if (const auto it = merged.find(class_type); it != merged.end()) {
        merge_info(*it, *info);
      } else {
        merged[class_type] = std::move(*info);
      }
    }
  }
  for (auto& [class_type, info] : merged.items()) {
    engine::node_definition definition;
    definition.info = std::move(info);
    registry_.add(std::move(definition));
  }
}

json node_catalog::object_info(const engine::node_environment& master_environment) const {
  return registry_.object_info(master_environment);
}

std::vector<std::string> preflight(const json& prompt, const json& worker_object_info) {
  std::vector<std::string> problems;
  std::set<std::string> reported;
  const auto report = [&](std::string problem) {
    if (reported.insert(problem).second) {
      problems.push_back(std::move(problem));
    }
  };
  if (!prompt.is_object()) {
    return problems;
  }
  for (const auto& [id, node] : prompt.items()) {
    const json* class_type = member(node, "class_type");
    if (class_type == nullptr || !class_type->is_string()) {
      continue;
    }
    const std::string& name = class_type->get_ref<const std::string&>();
    const json* info = member(worker_object_info, name);
    if (info == nullptr || !info->is_object()) {
      report("no node " + name);
      continue;
    }
    const json* inputs = member(node, "inputs");
    if (inputs == nullptr || !inputs->is_object()) {
      continue;
    }
    for (const auto& [input_name, raw_value] : inputs->items()) {
      const json* entry = declared_input(*info, input_name);
      if (entry == nullptr || takes_uploaded_image(*entry)) {
        continue;
      }
      const json* allowed = combo_options(*entry);
      const json* wrapped = member(raw_value, "__value__");
      const json& value = wrapped != nullptr ? *wrapped : raw_value;
      if (allowed == nullptr || value.is_array()) {
        continue;  // not a combo, or a link
      }
      const bool offered = std::any_of(allowed->begin(), allowed->end(), [&](const json& option) {
        return same_value(option, value);
      });
      if (!offered) {
        std::string problem = name;
        problem.append(".").append(input_name).append(": no ").append(engine::python_repr(value));
        problem.append(" (has: ").append(options_text(*allowed)).append(")");
        report(problem);
      }
    }
  }
  return problems;
}

}  // namespace comfydist::master
