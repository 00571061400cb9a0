// Registration and object_info rendering of node classes.
#include "engine/node_registry.hpp"

#include <stdexcept>

namespace comfydist::engine {

void node_registry::add(node_definition definition) {
  const std::string name = definition.name();
  if (!definitions_.emplace(name, std::move(definition)).second) {
    throw std::logic_error("node class registered twice: " + name);
  }
}

const node_definition* node_registry::find(const std::string& class_type) const {
  const auto it = definitions_.find(class_type);
  return it == definitions_.end() ? nullptr : &it->second;
}

json node_registry::object_info(const node_environment& environment) const {
  json out = json::object();
  for (const auto& [name, definition] : definitions_) {
    json info = definition.info;
    if (definition.refresh_info) {
      definition.refresh_info(info, environment);
    }
    out[name] = std::move(info);
  }
  return out;
}

json node_registry::object_info(const std::string& class_type,
                                const node_environment& environment) const {
  const auto* definition = find(class_type);
  if (definition == nullptr) {
    return json::object();
  }
  json info = definition->info;
  if (definition->refresh_info) {
    definition->refresh_info(info, environment);
  }
  json out = json::object();
  out[class_type] = std::move(info);
  return out;
}

}  // namespace comfydist::engine
