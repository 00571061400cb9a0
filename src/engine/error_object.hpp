// ComfyUI's error object: exactly the keys type, message, details, extra_info.
#pragma once

#include <string>

#include "common/json.hpp"

namespace comfydist::engine {

struct error_object {
  std::string type;
  std::string message;
  std::string details;
  json extra_info = json::object();

  json to_json() const {
    json out = json::object();
    out["type"] = type;
    out["message"] = message;
    out["details"] = details;
    out["extra_info"] = extra_info;
    return out;
  }
};

}  // namespace comfydist::engine
