// ComfyUI's validate_prompt / validate_inputs, reproduced message for message.
#include "engine/prompt_validator.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "engine/python_format.hpp"

namespace comfydist::engine {
namespace {

// An exception raised while validating, reported with a Python-like exception type.
struct validation_exception {
  std::string type;
  std::string message;
};

struct node_check {
  bool ok = true;
  std::vector<error_object> reasons;
};

std::string node_title(const json& node, const std::string& fallback) {
  if (node.is_object()) {
    const auto meta = node.find("_meta");
    if (meta != node.end() && meta->is_object()) {
      const auto title = meta->find("title");
      if (title != meta->end() && title->is_string()) {
        return title->get<std::string>();
      }
    }
  }
  return fallback;
}

// The type part of an input entry: a string, or "COMBO" for a V1 combo (a list of options).
std::string input_type_name(const json& entry) {
  if (!entry.is_array() || entry.empty()) {
    return "*";
  }
  if (entry[0].is_array()) {
    return "COMBO";
  }
  return entry[0].is_string() ? entry[0].get<std::string>() : "*";
}

json input_options(const json& entry) {
  if (entry.is_array() && entry.size() > 1 && entry[1].is_object()) {
    return entry[1];
  }
  return json::object();
}

// The allowed values of a combo input, or nothing when the input is not a combo.
std::optional<json> combo_values(const json& entry) {
  if (!entry.is_array() || entry.empty()) {
    return std::nullopt;
  }
  if (entry[0].is_array()) {
    return entry[0];
  }
  if (entry[0] == "COMBO") {
    const json options = input_options(entry);
    const auto it = options.find("options");
    if (it != options.end() && it->is_array()) {
      return *it;
    }
  }
  return std::nullopt;
}

bool types_match(const std::string& received, const std::string& expected) {
  if (received == expected || received == "*" || expected == "*") {
    return true;
  }
  auto split = [](const std::string& s) {
    std::set<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
      const auto comma = s.find(',', start);
      const auto end = comma == std::string::npos ? s.size() : comma;
      out.insert(s.substr(start, end - start));
      if (comma == std::string::npos) {
        break;
      }
      start = comma + 1;
    }
    return out;
  };
  const auto a = split(received);
  const auto b = split(expected);
  return std::any_of(a.begin(), a.end(), [&](const std::string& t) { return b.count(t) > 0; });
}

bool json_number_equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    return a.get<double>() == b.get<double>();
  }
  if (a.is_boolean() && b.is_number()) {
    return (a.get<bool>() ? 1.0 : 0.0) == b.get<double>();
  }
  if (b.is_boolean() && a.is_number()) {
    return (b.get<bool>() ? 1.0 : 0.0) == a.get<double>();
  }
  return a == b;
}

// Python's int(x) for a JSON value. Throws validation_exception like Python would.
json coerce_int(const json& v) {
  if (v.is_number_integer()) {
    return v;
  }
  if (v.is_boolean()) {
    return v.get<bool>() ? 1 : 0;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isnan(d)) {
      throw validation_exception{"ValueError", "cannot convert float NaN to integer"};
    }
    if (std::isinf(d)) {
      throw validation_exception{"OverflowError", "cannot convert float infinity to integer"};
    }
    const double t = std::trunc(d);
    if (t >= -9.2e18 && t <= 9.2e18) {
      return static_cast<std::int64_t>(t);
    }
    return t;  // out of int64: kept as a float so the range check refuses it
  }
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    const auto first = s.find_first_not_of(" \t\n\r");
    const auto last = s.find_last_not_of(" \t\n\r");
    s = first == std::string::npos ? "" : s.substr(first, last - first + 1);
    std::string digits = s;
    std::erase(digits, '_');
    bool ok = !digits.empty();
    std::size_t i = (ok && (digits[0] == '-' || digits[0] == '+')) ? 1 : 0;
    ok = ok && i < digits.size();
    for (; ok && i < digits.size(); ++i) {
      ok = digits[i] >= '0' && digits[i] <= '9';
    }
    if (!ok) {
      throw validation_exception{"ValueError",
                                 "invalid literal for int() with base 10: " + python_repr(v)};
    }
    try {
      return static_cast<std::int64_t>(std::stoll(digits));
    } catch (const std::out_of_range&) {
      return std::stod(digits);
    }
  }
  const std::string kind = v.is_null() ? "NoneType" : v.is_array() ? "list" : "dict";
  throw validation_exception{
      "TypeError",
      "int() argument must be a string, a bytes-like object or a real number, not '" + kind + "'"};
}

json coerce_float(const json& v) {
  if (v.is_number()) {
    return v.get<double>();
  }
  if (v.is_boolean()) {
    return v.get<bool>() ? 1.0 : 0.0;
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    try {
      std::size_t used = 0;
      const double d = std::stod(s, &used);
      if (s.find_first_not_of(" \t\n\r", used) == std::string::npos) {
        return d;
      }
    } catch (const std::exception&) {
      // fall through to Python's message
    }
    throw validation_exception{"ValueError",
                               "could not convert string to float: " + python_repr(v)};
  }
  const std::string kind = v.is_null() ? "NoneType" : v.is_array() ? "list" : "dict";
  throw validation_exception{
      "TypeError", "float() argument must be a string or a real number, not '" + kind + "'"};
}

json coerce_bool(const json& v) {
  if (v.is_boolean()) {
    return v;
  }
  if (v.is_null()) {
    return false;
  }
  if (v.is_number()) {
    return v.get<double>() != 0.0;
  }
  if (v.is_string() || v.is_array() || v.is_object()) {
    return !v.empty();
  }
  return false;
}

class validator {
 public:
  validator(json& prompt, const node_registry& registry, const node_environment& environment)
      : prompt_(prompt), registry_(registry), environment_(environment) {}

  // Validates `node_id` and everything it links to. Throws validation_exception for errors that
  // ComfyUI raises as Python exceptions (a link to a node that does not exist).
  bool validate(const std::string& node_id) {
    if (const auto it = checks_.find(node_id); it != checks_.end()) {
      return it->second.ok;
    }
    const auto on_stack = std::find(visiting_.begin(), visiting_.end(), node_id);
    if (on_stack != visiting_.end()) {
      mark_cycle(std::vector<std::string>(on_stack, visiting_.end()));
      return false;
    }
    visiting_.push_back(node_id);
    node_check check = check_node(node_id);
    visiting_.pop_back();
    if (const auto cycle = cycle_errors_.find(node_id); cycle != cycle_errors_.end()) {
      check = node_check{false, {cycle->second}};
    }
    record(node_id, std::move(check));
    return checks_.at(node_id).ok;
  }

  void record(const std::string& node_id, node_check check) {
    if (checks_.find(node_id) == checks_.end()) {
      order_.push_back(node_id);
    }
    checks_[node_id] = std::move(check);
  }

  const std::map<std::string, node_check>& checks() const { return checks_; }
  const std::vector<std::string>& order() const { return order_; }

 private:
  void mark_cycle(const std::vector<std::string>& cycle) {
    std::string details;
    json ids = json::array();
    for (const auto& id : cycle) {
      details += id + " (" + prompt_[id].value("class_type", std::string("?")) + ") -> ";
      ids.push_back(id);
    }
    details +=
        cycle.front() + " (" + prompt_[cycle.front()].value("class_type", std::string("?")) + ")";
    for (const auto& id : cycle) {
      error_object error{"dependency_cycle", "Dependency cycle detected", details, json::object()};
      error.extra_info["node_id"] = id;
      error.extra_info["cycle_nodes"] = ids;
      cycle_errors_[id] = error;
    }
  }

  node_check check_node(const std::string& node_id) {
    json& node = prompt_[node_id];
    const std::string class_type = node["class_type"].get<std::string>();
    const node_definition* definition = registry_.find(class_type);
    json info = definition->info;
    if (definition->refresh_info) {
      definition->refresh_info(info, environment_);
    }
    if (!node.contains("inputs") || !node["inputs"].is_object()) {
      node["inputs"] = json::object();
    }
    json& inputs = node["inputs"];
    const json& declared = info["input"];
    node_check check;

    const auto& custom = definition->validate_parameters;
    auto visit_section = [&](const char* section, bool required) {
      const auto sec = declared.find(section);
      if (sec == declared.end() || !sec->is_object()) {
        return;
      }
      for (const auto& [name, entry] : sec->items()) {
        const auto value_it = inputs.find(name);
        if (value_it == inputs.end()) {
          if (required) {
            error_object error{"required_input_missing", "Required input is missing", name,
                               json::object()};
            error.extra_info["input_name"] = name;
            check.reasons.push_back(error);
            check.ok = false;
          }
          continue;
        }
        check_input(node_id, name, entry, *value_it,
                    std::find(custom.begin(), custom.end(), name) != custom.end(), check);
      }
    };
    visit_section("required", true);
    visit_section("optional", false);

    if (definition->validate) {
      json constants = json::object();
      bool any = false;
      for (const auto& name : custom) {
        const auto it = inputs.find(name);
        if (it != inputs.end()) {
          constants[name] = is_link(*it) ? json(nullptr) : *it;
          any = true;
        }
      }
      if (any) {
        const auto problem = definition->validate(constants, environment_);
        if (problem) {
          for (const auto& [name, ignored] : constants.items()) {
            error_object error{"custom_validation_failed", "Custom validation failed for node",
                               name + " - " + *problem, json::object()};
            error.extra_info["input_name"] = name;
            check.reasons.push_back(error);
          }
          check.ok = false;
        }
      }
    }
    return check;
  }

  void check_input(const std::string& node_id, const std::string& name, const json& entry,
                   json& value, bool custom_validated, node_check& check) {
    (void)node_id;
    if (value.is_array()) {
      check_link(name, entry, value, check);
      return;
    }
    if (value.is_object() && value.contains("__value__")) {
      json unwrapped = value["__value__"];
      value = std::move(unwrapped);
    }
    const std::string type = input_type_name(entry);
    const json options = input_options(entry);
    try {
      if (type == "INT") {
        value = coerce_int(value);
      } else if (type == "FLOAT") {
        value = coerce_float(value);
      } else if (type == "STRING") {
        if (!value.is_string()) {
          value = python_str(value);
        }
      } else if (type == "BOOLEAN") {
        value = coerce_bool(value);
      }
    } catch (const validation_exception& ex) {
      error_object error{"invalid_input_type",
                         "Failed to convert an input value to a " + type + " value",
                         name + ", " + python_str(value) + ", " + ex.message, json::object()};
      error.extra_info["input_name"] = name;
      error.extra_info["input_config"] = entry;
      error.extra_info["received_value"] = value;
      error.extra_info["exception_message"] = ex.message;
      check.reasons.push_back(error);
      check.ok = false;
      return;
    }
    if (custom_validated) {
      return;
    }
    if (value.is_number()) {
      const double v = value.get<double>();
      if (const auto min = options.find("min"); min != options.end() && min->is_number()) {
        if (v < min->get<double>()) {
          push_range_error("value_smaller_than_min", "smaller than min of", name, entry, value,
                           *min, check);
          return;
        }
      }
      if (const auto max = options.find("max"); max != options.end() && max->is_number()) {
        if (v > max->get<double>()) {
          push_range_error("value_bigger_than_max", "bigger than max of", name, entry, value, *max,
                           check);
          return;
        }
      }
    }
    if (const auto allowed = combo_values(entry)) {
      const bool found = std::any_of(allowed->begin(), allowed->end(), [&](const json& option) {
        return json_number_equal(option, value);
      });
      if (!found) {
        const bool long_list = allowed->size() > 20;
        const std::string list_text =
            long_list ? "(list of length " + std::to_string(allowed->size()) + ")"
                      : python_repr(*allowed);
        error_object error{"value_not_in_list", "Value not in list",
                           name + ": " + python_repr(value) + " not in " + list_text,
                           json::object()};
        error.extra_info["input_name"] = name;
        error.extra_info["input_config"] = long_list ? json(nullptr) : entry;
        error.extra_info["received_value"] = value;
        check.reasons.push_back(error);
        check.ok = false;
      }
    }
  }

  static void push_range_error(const char* type, const char* words, const std::string& name,
                               const json& entry, const json& value, const json& bound,
                               node_check& check) {
    error_object error{type, "Value " + python_str(value) + " " + words + " " + python_str(bound),
                       name, json::object()};
    error.extra_info["input_name"] = name;
    error.extra_info["input_config"] = entry;
    error.extra_info["received_value"] = value;
    check.reasons.push_back(error);
    check.ok = false;
  }

  void check_link(const std::string& name, const json& entry, const json& value,
                  node_check& check) {
    if (value.size() != 2) {
      error_object error{"bad_linked_input",
                         "Bad linked input, must be a length-2 list of [node_id, slot_index]", name,
                         json::object()};
      error.extra_info["input_name"] = name;
      error.extra_info["input_config"] = entry;
      error.extra_info["received_value"] = value;
      check.reasons.push_back(error);
      check.ok = false;
      return;
    }
    const json& source = value[0];
    const std::string source_id = source.is_string() ? source.get<std::string>() : source.dump();
    if (!source.is_string() || !prompt_.contains(source_id)) {
      throw validation_exception{"KeyError",
                                 source.is_string() ? python_repr(source) : source.dump()};
    }
    const json& source_node = prompt_[source_id];
    const node_definition* source_definition =
        registry_.find(source_node["class_type"].get<std::string>());
    const json& outputs = source_definition->info["output"];
    if (!value[1].is_number_integer()) {
      throw validation_exception{"TypeError", "tuple indices must be integers or slices, not " +
                                                  std::string(value[1].type_name())};
    }
    const auto slot = value[1].get<std::int64_t>();
    if (slot < 0 || slot >= static_cast<std::int64_t>(outputs.size())) {
      throw validation_exception{"IndexError", "tuple index out of range"};
    }
    const std::string received = outputs[static_cast<std::size_t>(slot)].get<std::string>();
    const std::string expected = input_type_name(entry);
    if (!types_match(received, expected)) {
      error_object error{
          "return_type_mismatch", "Return type mismatch between linked nodes",
          name + ", received_type(" + received + ") mismatch input_type(" + expected + ")",
          json::object()};
      error.extra_info["input_name"] = name;
      error.extra_info["input_config"] = entry;
      error.extra_info["received_type"] = received;
      error.extra_info["linked_node"] = value;
      check.reasons.push_back(error);
      check.ok = false;
      return;
    }
    try {
      if (!validate(source_id)) {
        check.ok = false;
      }
    } catch (const validation_exception& ex) {
      error_object error{"exception_during_inner_validation",
                         "Exception when validating inner node", ex.message, json::object()};
      error.extra_info["input_name"] = name;
      error.extra_info["input_config"] = entry;
      error.extra_info["exception_message"] = ex.message;
      error.extra_info["exception_type"] = ex.type;
      error.extra_info["traceback"] = json::array();
      error.extra_info["linked_node"] = value;
      record(source_id, node_check{false, {error}});
      check.ok = false;
    }
  }

  json& prompt_;
  const node_registry& registry_;
  const node_environment& environment_;
  std::map<std::string, node_check> checks_;
  std::vector<std::string> order_;
  std::vector<std::string> visiting_;
  std::map<std::string, error_object> cycle_errors_;
};

}  // namespace

bool is_link(const json& value) {
  return value.is_array() && value.size() == 2 && value[0].is_string() && value[1].is_number();
}

validation_result validate_prompt(json& prompt,
                                  const std::optional<std::vector<std::string>>& partial_targets,
                                  const node_registry& registry,
                                  const node_environment& environment) {
  validation_result result;
  std::vector<std::string> outputs;
  for (auto& [id, node] : prompt.items()) {
    if (!node.is_object() || !node.contains("class_type") || !node["class_type"].is_string()) {
      const std::string title = node_title(node, "ID #" + id);
      error_object error{"missing_node_type",
                         "Node '" + title +
                             "' has no class_type. The workflow may be corrupted or a custom node "
                             "is missing.",
                         "Node ID '#" + id + "'", json::object()};
      error.extra_info["node_id"] = id;
      error.extra_info["class_type"] = nullptr;
      error.extra_info["node_title"] = node_title(node, "").empty() ? json(nullptr) : json(title);
      result.error = error;
      return result;
    }
    const std::string class_type = node["class_type"].get<std::string>();
    const node_definition* definition = registry.find(class_type);
    if (definition == nullptr) {
      const std::string title = node_title(node, class_type);
      error_object error{"missing_node_type",
                         "Node '" + title + "' not found. The custom node may not be installed.",
                         "Node ID '#" + id + "'", json::object()};
      error.extra_info["node_id"] = id;
      error.extra_info["class_type"] = class_type;
      error.extra_info["node_title"] = title;
      result.error = error;
      return result;
    }
    if (definition->output_node() &&
        (!partial_targets || std::find(partial_targets->begin(), partial_targets->end(), id) !=
                                 partial_targets->end())) {
      outputs.push_back(id);
    }
  }
  if (outputs.empty()) {
    result.error = error_object{"prompt_no_outputs", "Prompt has no outputs", "", json::object()};
    return result;
  }

  validator checker(prompt, registry, environment);
  std::vector<std::string> good;
  std::vector<std::string> detail_lines;
  for (const auto& output : outputs) {
    bool valid = false;
    std::vector<error_object> reasons;
    try {
      valid = checker.validate(output);
      reasons = checker.checks().at(output).reasons;
    } catch (const validation_exception& ex) {
      error_object error{"exception_during_validation", "Exception when validating node",
                         ex.message, json::object()};
      error.extra_info["exception_type"] = ex.type;
      error.extra_info["traceback"] = json::array();
      reasons = {error};
      checker.record(output, node_check{false, reasons});
    }
    if (valid) {
      good.push_back(output);
      continue;
    }
    for (const auto& reason : reasons) {
      detail_lines.push_back(reason.message + ": " + reason.details);
    }
    for (const auto& id : checker.order()) {
      const node_check& check = checker.checks().at(id);
      if (check.ok || check.reasons.empty()) {
        continue;
      }
      if (!result.node_errors.contains(id)) {
        json errors = json::array();
        for (const auto& reason : check.reasons) {
          errors.push_back(reason.to_json());
        }
        json entry = json::object();
        entry["errors"] = errors;
        entry["dependent_outputs"] = json::array();
        entry["class_type"] = prompt[id]["class_type"];
        result.node_errors[id] = entry;
      }
      result.node_errors[id]["dependent_outputs"].push_back(output);
    }
  }
  if (good.empty()) {
    std::string details;
    for (std::size_t i = 0; i < detail_lines.size(); ++i) {
      details += (i == 0 ? "" : "\n") + detail_lines[i];
    }
    result.error = error_object{"prompt_outputs_failed_validation",
                                "Prompt outputs failed validation", details, json::object()};
    return result;
  }
  result.ok = true;
  result.outputs = std::move(good);
  return result;
}

}  // namespace comfydist::engine
