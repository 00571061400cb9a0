// The definition factories of the test-only nodes, which a worker offers only when asked.
#pragma once

#include "engine/node_definition.hpp"

namespace comfydist::nodes {

engine::node_definition debug_delay_node();

}  // namespace comfydist::nodes
