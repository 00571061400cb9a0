// The node classes a process offers, by class name, and their object_info.
#pragma once

#include "common/json.hpp"

#include <map>
#include <memory>
#include <string>

#include "engine/node_definition.hpp"

namespace comfydist::engine {

class node_registry {
 public:
  void add(node_definition definition);
  const node_definition* find(const std::string& class_type) const;
  const std::map<std::string, node_definition>& all() const { return definitions_; }

  // GET /object_info: every class, dynamic parts refreshed.
  json object_info(const node_environment& environment) const;
  // GET /object_info/{class}: {class: info}, or {} when unknown.
  json object_info(const std::string& class_type, const node_environment& environment) const;

 private:
  std::map<std::string, node_definition> definitions_;
};

}  // namespace comfydist::engine
