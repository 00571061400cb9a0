// Reading the master's job documents (GET /distributed/jobs/{id}) without trusting their shape:
// the CLI must keep drawing and summarising even when a field is missing or of another type.
#pragma once

#include <string>

#include "common/json.hpp"

namespace comfydist::cli {

// The field as text: a string as it is, null or missing as "", anything else as its JSON.
inline std::string text_field(const json& object, const char* key) {
  if (!object.is_object()) {
    return "";
  }
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return "";
  }
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// The field as a number; 0 when missing or not a number.
inline double number_field(const json& object, const char* key) {
  if (!object.is_object()) {
    return 0;
  }
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0;
}

// The field when it is an array or an object of the wanted kind; an empty one otherwise.
inline json array_field(const json& object, const char* key) {
  if (object.is_object()) {
    const auto it = object.find(key);
    if (it != object.end() && it->is_array()) {
      return *it;
    }
  }
  return json::array();
}

inline json object_field(const json& object, const char* key) {
  if (object.is_object()) {
    const auto it = object.find(key);
    if (it != object.end() && it->is_object()) {
      return *it;
    }
  }
  return json::object();
}

inline bool is_final_job_state(const std::string& state) {
  return state == "done" || state == "partial" || state == "failed" || state == "cancelled";
}

// The first line of a message, so that a worker's traceback does not flood a progress line.
inline std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace comfydist::cli
