// DistributedValue (ComfyUI-Distributed): a value that may differ per participant, typed by the
// input it feeds. Executed here it returns default_value coerced to worker_values["_type"]: the
// master writes each unit's own value into the prompt as default_value before dispatching it.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "nodes/distributed/distributed_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "default_value": [
        "STRING",
        {
          "default": ""
        }
      ],
      "worker_values": [
        "STRING",
        {
          "default": "{}"
        }
      ]
    },
    "hidden": {
      "is_worker": [
        "BOOLEAN",
        {
          "default": false
        }
      ],
      "worker_id": [
        "STRING",
        {
          "default": ""
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "default_value",
      "worker_values"
    ],
    "hidden": [
      "is_worker",
      "worker_id"
    ]
  },
  "is_input_list": false,
  "output": [
    "*"
  ],
  "output_is_list": [
    false
  ],
  "output_name": [
    "value"
  ],
  "name": "DistributedValue",
  "display_name": "Distributed Value",
  "description": "",
  "python_module": "custom_nodes.ComfyUI-Distributed",
  "category": "utils",
  "output_node": false,
  "has_intermediate_output": false
})json";

std::string python_repr(const std::string& text) {
  return "'" + text + "'";
}

// Python's float(str): surrounding whitespace allowed, the whole rest must be the number.
// strtod also reads hexadecimal, which Python refuses.
double python_float(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\n\r\f\v");
  const auto last = text.find_last_not_of(" \t\n\r\f\v");
  if (first != std::string::npos) {
    const std::string core = text.substr(first, last - first + 1);
    if (core.find_first_of("xX") == std::string::npos) {
      char* end = nullptr;
      errno = 0;
      const double value = std::strtod(core.c_str(), &end);
      if (end == core.c_str() + core.size()) {
        return value;
      }
    }
  }
  throw engine::node_error(
      "ValueError", "DistributedValue: could not convert string to float: " + python_repr(text));
}

// int(float(x)): truncation toward zero, refused where Python would raise.
std::int64_t python_int_of_float(const std::string& text) {
  const double value = python_float(text);
  if (std::isnan(value)) {
    throw engine::node_error("ValueError", "DistributedValue: cannot convert float NaN to integer");
  }
  // 2^63 is exactly representable; anything at or beyond it does not fit an INT.
  if (std::isinf(value) || value >= 9223372036854775808.0 || value < -9223372036854775808.0) {
    throw engine::node_error("OverflowError", "DistributedValue: " + python_repr(text) +
                                                  " does not fit in a 64-bit INT");
  }
  return static_cast<std::int64_t>(value);
}

// The "_type" the front end wrote; an empty text counts as "{}" because a cleared widget is not
// a mistake worth failing a prompt over.
std::string declared_type(const std::string& worker_values) {
  if (worker_values.find_first_not_of(" \t\n\r") == std::string::npos) {
    return "STRING";
  }
  json parsed;
  try {
    parsed = json::parse(worker_values);
  } catch (const json::parse_error& ex) {
    throw engine::node_error(
        "ValueError",
        std::string("DistributedValue: worker_values is not valid JSON (") + ex.what() + ")");
  }
  if (!parsed.is_object()) {
    throw engine::node_error("ValueError",
                             "DistributedValue: worker_values must be a JSON object, not " +
                                 std::string(parsed.type_name()));
  }
  const auto type = parsed.find("_type");
  if (type == parsed.end() || type->is_null()) {
    return "STRING";
  }
  if (!type->is_string()) {
    throw engine::node_error(
        "ValueError",
        "DistributedValue: worker_values[\"_type\"] must be a string, not " + type->dump());
  }
  return type->get<std::string>();
}

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context&) {
  const std::string& value = inputs.get_string("default_value");
  const std::string type = declared_type(inputs.get_string("worker_values"));
  if (type == "INT") {
    return single_output(python_int_of_float(value));
  }
  if (type == "FLOAT") {
    return single_output(python_float(value));
  }
  // STRING, COMBO (whose options are strings) and anything unknown stay text.
  return single_output(value);
}

}  // namespace

engine::node_definition distributed_value_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
