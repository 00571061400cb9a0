// Safe JSON parsing and printing.
#include "common/json_text.hpp"

#include "common/api_error.hpp"

namespace comfydist {

json parse_json_body(std::string_view body, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        throw api_error(400, "invalid_json",
                        "JSON nested deeper than " + std::to_string(max_depth) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  try {
    return json::parse(body);
  } catch (const json::parse_error& ex) {
    throw api_error(400, "invalid_json",
                    std::string("request body is not valid JSON: ") + ex.what());
  }
}

std::string to_text(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace comfydist
