// One queued prompt, as ComfyUI keeps it: (number, prompt_id, prompt, extra_data,
// outputs_to_execute) plus the sensitive extra_data keys kept out of queue and history views.
#pragma once

#include <string>
#include <vector>

#include "common/json.hpp"

namespace comfydist::engine {

struct queue_item {
  json number;  // int from the server counter, or the float the client sent
  std::string prompt_id;
  json prompt;
  json extra_data = json::object();
  std::vector<std::string> outputs;
  json sensitive = json::object();
  // What nodes see as the hidden PROMPT (SaveImage's "prompt" metadata) when it is not `prompt`
  // itself: the master runs a rewritten part of a client's prompt and records the client's.
  json metadata_prompt;

  double priority() const { return number.get<double>(); }

  // [number, prompt_id, prompt, extra_data, outputs_to_execute]
  json to_json() const {
    json out = json::array();
    out.push_back(number);
    out.push_back(prompt_id);
    out.push_back(prompt);
    out.push_back(extra_data);
    out.push_back(outputs);
    return out;
  }
};

// ComfyUI's heap order: smallest number first, ties broken by prompt_id.
inline bool runs_before(const queue_item& a, const queue_item& b) {
  if (a.priority() != b.priority()) {
    return a.priority() < b.priority();
  }
  return a.prompt_id < b.prompt_id;
}

}  // namespace comfydist::engine
