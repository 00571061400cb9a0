// DistributedSeed (ComfyUI-Distributed): a seed widget whose value differs per participant.
// Executed here it returns the seed unchanged: the master writes each unit's seed into the prompt
// as a literal before dispatching it, so no worker needs is_worker/worker_id to derive its own.
// Those hidden inputs are still declared so that prompts written for ComfyUI-Distributed validate.
#include "nodes/distributed/distributed_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "seed": [
        "INT",
        {
          "default": 1125899906842,
          "min": 0,
          "max": 1125899906842624
        }
      ]
    },
    "hidden": {
      "is_worker": [
        "BOOLEAN",
        {
          "default": false
        }
      ],
      "worker_id": [
        "STRING",
        {
          "default": ""
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "seed"
    ],
    "hidden": [
      "is_worker",
      "worker_id"
    ]
  },
  "is_input_list": false,
  "output": [
    "INT"
  ],
  "output_is_list": [
    false
  ],
  "output_name": [
    "seed"
  ],
  "name": "DistributedSeed",
  "display_name": "Distributed Seed",
  "description": "",
  "python_module": "custom_nodes.ComfyUI-Distributed",
  "category": "utils",
  "output_node": false,
  "has_intermediate_output": false
})json";

}  // namespace

engine::node_definition distributed_seed_node() {
  return make_definition(info, [](const engine::node_inputs& inputs, engine::node_context&) {
    return single_output(inputs.get_int("seed"));
  });
}

}  // namespace comfydist::nodes
