// The definition factories of ComfyUI-Distributed's nodes and of the master's internal gather
// node, one per node file.
#pragma once

#include "engine/node_definition.hpp"

namespace comfydist::nodes {

engine::node_definition distributed_seed_node();
engine::node_definition distributed_collector_node();
engine::node_definition distributed_value_node();
engine::node_definition image_batch_divider_node();
engine::node_definition distributed_gathered_images_node();
engine::node_definition distributed_tiles_node();
engine::node_definition distributed_save_blended_node();

}  // namespace comfydist::nodes
