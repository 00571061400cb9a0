// The node classes this worker runs natively.
#pragma once

#include "engine/node_registry.hpp"

namespace comfydist::nodes {

void register_builtin_nodes(engine::node_registry& registry);

}  // namespace comfydist::nodes
