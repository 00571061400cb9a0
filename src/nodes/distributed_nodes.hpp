// Registration of ComfyUI-Distributed's nodes, of the master's internal nodes and of the
// test-only nodes; which process registers which set is the caller's choice.
#pragma once

#include "engine/node_registry.hpp"

namespace comfydist::nodes {

// DistributedSeed, DistributedCollector, DistributedValue, ImageBatchDivider, DistributedTiles:
// every native worker
// and the master, so that distributed workflows validate on both.
void register_distributed_nodes(engine::node_registry& registry);

// DistributedGatheredImages, DistributedSaveBlended: the master only, since they read files from
// the temp folder that the master's own units filled.
void register_master_nodes(engine::node_registry& registry);

// DebugDelay: workers started with --enable-test-nodes.
void register_test_nodes(engine::node_registry& registry);

}  // namespace comfydist::nodes
