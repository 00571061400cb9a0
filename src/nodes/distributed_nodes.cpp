// Registration of the distributed, master-only and test-only nodes.
#include "nodes/distributed_nodes.hpp"

#include "nodes/distributed/distributed_catalog.hpp"
#include "nodes/testing/testing_catalog.hpp"

namespace comfydist::nodes {

void register_distributed_nodes(engine::node_registry& registry) {
  registry.add(distributed_seed_node());
  registry.add(distributed_collector_node());
  registry.add(distributed_value_node());
  registry.add(image_batch_divider_node());
  registry.add(distributed_tiles_node());
}

void register_master_nodes(engine::node_registry& registry) {
  registry.add(distributed_gathered_images_node());
  registry.add(distributed_save_blended_node());
}

void register_test_nodes(engine::node_registry& registry) {
  registry.add(debug_delay_node());
}

}  // namespace comfydist::nodes
