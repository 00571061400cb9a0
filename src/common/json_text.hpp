// JSON parsing and printing at the edge: bounded nesting, and printing that never throws on
// invalid UTF-8 (file names from disk may hold any bytes).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace comfydist {

// Parses a request body. Throws api_error(400, "invalid_json") for malformed JSON or nesting
// deeper than `max_depth` (deep nesting would exhaust the stack when printed).
json parse_json_body(std::string_view body, std::size_t max_depth = 128);

// Compact text; invalid UTF-8 bytes are replaced with U+FFFD.
std::string to_text(const json& value);

}  // namespace comfydist
