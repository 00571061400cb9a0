// The body of POST /prompt, parsed into a typed request at the edge.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace comfydist::comfy {

struct prompt_request {
  std::optional<json> prompt;  // absent → no_prompt
  json prompt_id;              // null when absent
  std::optional<std::string> client_id;
  json extra_data = json::object();
  bool front = false;
  std::optional<double> number;
  std::optional<std::vector<std::string>> partial_execution_targets;
};

// Throws api_error(400, ...) for a body that is not a JSON object or has fields of the wrong
// kind. Limits: at most `max_nodes` nodes in the prompt.
prompt_request parse_prompt_request(const json& body, std::size_t max_nodes);

}  // namespace comfydist::comfy
