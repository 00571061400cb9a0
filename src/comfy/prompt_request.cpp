// Parsing and shape checks of POST /prompt bodies.
#include "comfy/prompt_request.hpp"

#include <cmath>

#include "common/api_error.hpp"

namespace comfydist::comfy {

prompt_request parse_prompt_request(const json& body, std::size_t max_nodes) {
  if (!body.is_object()) {
    throw api_error(400, "invalid_request", "the request body must be a JSON object");
  }
  prompt_request request;
  if (const auto it = body.find("prompt"); it != body.end()) {
    if (!it->is_object()) {
      throw api_error(400, "invalid_prompt",
                      "'prompt' must be an object mapping node ids to nodes (API format)");
    }
    if (it->size() > max_nodes) {
      throw api_error(400, "invalid_prompt",
                      "the prompt has " + std::to_string(it->size()) + " nodes; the limit is " +
                          std::to_string(max_nodes));
    }
    request.prompt = *it;
  }
  if (const auto it = body.find("prompt_id"); it != body.end()) {
    request.prompt_id = *it;
  }
  if (const auto it = body.find("client_id"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) {
      throw api_error(400, "invalid_request", "'client_id' must be a string");
    }
    request.client_id = it->get<std::string>();
  }
  if (const auto it = body.find("extra_data"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) {
      throw api_error(400, "invalid_request", "'extra_data' must be an object");
    }
    request.extra_data = *it;
  }
  if (const auto it = body.find("front"); it != body.end()) {
    // Python truthiness of the value.
    request.front = !(it->is_null() || (it->is_boolean() && !it->get<bool>()) ||
                      (it->is_number() && it->get<double>() == 0.0) ||
                      ((it->is_string() || it->is_array() || it->is_object()) && it->empty()));
  }
  if (const auto it = body.find("number"); it != body.end()) {
    double number = 0.0;
    if (it->is_number()) {
      number = it->get<double>();
    } else if (it->is_string()) {
      try {
        std::size_t used = 0;
        number = std::stod(it->get<std::string>(), &used);
        if (used != it->get_ref<const std::string&>().size()) {
          throw std::invalid_argument("trailing text");
        }
      } catch (const std::exception&) {
        throw api_error(400, "invalid_request", "'number' must be a number");
      }
    } else {
      throw api_error(400, "invalid_request", "'number' must be a number");
    }
    if (!std::isfinite(number)) {
      throw api_error(400, "invalid_request", "'number' must be finite");
    }
    request.number = number;
  }
  if (const auto it = body.find("partial_execution_targets"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) {
      throw api_error(400, "invalid_request",
                      "'partial_execution_targets' must be a list of node ids");
    }
    std::vector<std::string> targets;
    for (const auto& target : *it) {
      if (!target.is_string()) {
        throw api_error(400, "invalid_request",
                        "'partial_execution_targets' must be a list of node id strings");
      }
      targets.push_back(target.get<std::string>());
    }
    request.partial_execution_targets = std::move(targets);
  }
  return request;
}

}  // namespace comfydist::comfy
