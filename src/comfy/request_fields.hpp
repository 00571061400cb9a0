// Reading the small JSON bodies of ComfyUI's queue, history and prompt routes, shared by the
// native worker and the master's front door: the same answers for the same mistakes.
#pragma once

#include <string>
#include <vector>

#include "common/api_error.hpp"
#include "common/json.hpp"
#include "common/json_text.hpp"
#include "engine/error_object.hpp"

namespace comfydist::comfy {

// ComfyUI's invalid-prompt body: {"error": {...}, "node_errors": {...}}.
inline json prompt_error_body(const engine::error_object& error, const json& node_errors) {
  json body = json::object();
  body["error"] = error.to_json();
  body["node_errors"] = node_errors;
  return body;
}

inline json object_body(const std::string& body) {
  json parsed = parse_json_body(body);
  if (!parsed.is_object()) {
    throw api_error(400, "invalid_request", "the request body must be a JSON object");
  }
  return parsed;
}

// `{"delete": ["id", ...]}`: at most 10000 ids.
inline std::vector<std::string> id_list(const json& body, const char* key) {
  std::vector<std::string> ids;
  const auto it = body.find(key);
  if (it == body.end()) {
    return ids;
  }
  if (!it->is_array() || it->size() > 10000) {
    throw api_error(400, "invalid_request",
                    std::string("'") + key + "' must be a list of at most 10000 prompt ids");
  }
  for (const auto& id : *it) {
    if (!id.is_string()) {
      throw api_error(400, "invalid_request", std::string("'") + key + "' must hold strings");
    }
    ids.push_back(id.get<std::string>());
  }
  return ids;
}

// Python truthiness of a flag such as "clear": true / 1.
inline bool truthy(const json& body, const char* key) {
  const auto it = body.find(key);
  return it != body.end() &&
         ((it->is_boolean() && it->get<bool>()) || (it->is_number() && it->get<double>() != 0.0));
}

}  // namespace comfydist::comfy
