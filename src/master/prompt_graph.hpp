// Walking an API-format prompt as a graph (node id → {class_type, inputs}; a link is
// ["node id", output index]): what the planners need to cut a workflow into the parts the
// workers and the master run.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace comfydist::master {

bool is_link(const json& value);

// The node's class_type, or "" for a malformed node.
std::string class_of(const json& node);

// Every node the roots depend on (roots included), not walking past nodes in `stop` (which are
// included when reached).
std::set<std::string> ancestors_of(const json& prompt, const std::vector<std::string>& roots,
                                   const std::set<std::string>& stop = {});

// The sources and every node that depends on one of them (sources included).
std::set<std::string> descendants_of(const json& prompt, const std::set<std::string>& sources);

}  // namespace comfydist::master
