// DistributedTiles: asks for distributed tiled upscaling. Wired between an image and the `image`
// input of an ImageUpscaleWithModel, it tells the master to cut that image into tiles of `tile`
// pixels overlapping by `overlap`, upscale every tile on the workers and blend them back with a
// `feather` ramp (docs/tiles.md). A pass-through node rather than a separate options output, so a
// ComfyUI user wires it inline, and a workflow holding it still runs unchanged (untiled) on a
// single ComfyUI that executes it as written.
#include "nodes/distributed/distributed_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "image": [
        "IMAGE"
      ],
      "tile": [
        "INT",
        {
          "default": 512,
          "min": 8,
          "max": 4096,
          "step": 8,
          "tooltip": "Tile side in input pixels."
        }
      ],
      "overlap": [
        "INT",
        {
          "default": 64,
          "min": 0,
          "max": 2048,
          "tooltip": "Input pixels shared by neighbouring tiles; at most half a tile."
        }
      ],
      "feather": [
        "COMBO",
        {
          "multiselect": false,
          "options": [
            "linear",
            "cosine"
          ],
          "default": "linear",
          "tooltip": "The weight ramp across an overlap."
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "image",
      "tile",
      "overlap",
      "feather"
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
    "image"
  ],
  "name": "DistributedTiles",
  "display_name": "Distributed Tiles",
  "description": "Link into ImageUpscaleWithModel's image to upscale it in tiles on every worker.",
  "python_module": "comfydist",
  "category": "image/upscaling",
  "output_node": false,
  "has_intermediate_output": false
})json";

}  // namespace

engine::node_definition distributed_tiles_node() {
  return make_definition(info, [](const engine::node_inputs& inputs, engine::node_context&) {
    return single_output(inputs.get_image("image"));
  });
}

}  // namespace comfydist::nodes
