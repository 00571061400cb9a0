// Formatting of values the way Python's str() and repr() print them, because ComfyUI's error
// messages and details embed Python-formatted values that clients display and compare.
#pragma once

#include <string>

#include "common/json.hpp"

namespace comfydist::engine {

// str(x) of a Python float: shortest round-trip digits, "8.0" for integral values, "inf", "nan".
std::string python_float_str(double value);

// str(value) for a JSON value decoded into Python (int, float, str, bool, None, list, dict).
std::string python_str(const json& value);

// repr(value): strings quoted as Python does ('a', "it's").
std::string python_repr(const json& value);

}  // namespace comfydist::engine
