// The JSON type used everywhere: insertion-ordered, because ComfyUI's answers (object_info keys,
// prompt node order, history order) are Python dicts whose order clients rely on.
#pragma once

#include <nlohmann/json.hpp>

namespace comfydist {

using json = nlohmann::ordered_json;

}  // namespace comfydist
