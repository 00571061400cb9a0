// json.dumps(value) as Python's defaults print it: ", " and ": " separators, ASCII-only text
// (\uXXXX escapes), floats as repr() — the text SaveImage writes into PNG metadata.
#pragma once

#include <string>

#include "common/json.hpp"

namespace comfydist::nodes {

std::string python_json_dumps(const json& value);

}  // namespace comfydist::nodes
