// Graph walks over API-format prompts.
#include "master/prompt_graph.hpp"

namespace comfydist::master {

bool is_link(const json& value) {
  return value.is_array() && value.size() == 2 && value[0].is_string() && value[1].is_number();
}

std::string class_of(const json& node) {
  return node.is_object() ? node.value("class_type", std::string()) : std::string();
}

std::set<std::string> ancestors_of(const json& prompt, const std::vector<std::string>& roots,
                                   const std::set<std::string>& stop) {
  std::set<std::string> seen;
  std::vector<std::string> stack(roots.begin(), roots.end());
  while (!stack.empty()) {
    const std::string id = stack.back();
    stack.pop_back();
    if (!prompt.contains(id) || !seen.insert(id).second) {
      continue;
    }
    const json& node = prompt[id];
    if (stop.count(id) > 0 || !node.contains("inputs") || !node["inputs"].is_object()) {
      continue;
    }
    for (const auto& [name, value] : node["inputs"].items()) {
      if (is_link(value)) {
        stack.push_back(value[0].get<std::string>());
      }
    }
  }
  return seen;
}

std::set<std::string> descendants_of(const json& prompt, const std::set<std::string>& sources) {
  std::set<std::string> out = sources;
  // Fixed point rather than a reverse index: prompts are small and this runs once per job.
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& [id, node] : prompt.items()) {
      if (out.count(id) > 0 || !node.is_object() || !node.contains("inputs") ||
          !node["inputs"].is_object()) {
        continue;
      }
      for (const auto& [name, value] : node["inputs"].items()) {
        if (is_link(value) && out.count(value[0].get<std::string>()) > 0) {
          out.insert(id);
          grew = true;
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace comfydist::master
