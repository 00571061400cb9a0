// DistributedCollector (ComfyUI-Distributed): where the images of every participant meet.
// Executed here it passes its images through: the master replaces its input with the gathered
// images of all units (DistributedGatheredImages) before running it, so the node itself never
// talks to other machines. ComfyUI-Distributed also has an optional `audio` input and output;
// this engine has no AUDIO type, so both are left out.
#include "nodes/distributed/distributed_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "images": [
        "IMAGE"
      ],
      "load_balance": [
        "BOOLEAN",
        {
          "default": false,
          "tooltip": "Run this workflow on one least-busy worker."
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "images",
      "load_balance"
    ]
  },
  "is_input_list": false,
  "output": [
    "IMAGE"
  ],
  "output_is_list": [
    false
  ],
  "output_name": [
    "images"
  ],
  "name": "DistributedCollector",
  "display_name": "Distributed Collector",
  "description": "",
  "python_module": "custom_nodes.ComfyUI-Distributed",
  "category": "image",
  "output_node": false,
  "has_intermediate_output": false
})json";

}  // namespace

engine::node_definition distributed_collector_node() {
  return make_definition(info, [](const engine::node_inputs& inputs, engine::node_context&) {
    return single_output(inputs.get_image("images"));
  });
}

}  // namespace comfydist::nodes
