// ImageInvert: 1 - x on every channel.
#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "image": [
        "IMAGE"
      ]
    }
  },
  "input_order": {
    "required": [
      "image"
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
    "IMAGE"
  ],
  "name": "ImageInvert",
  "display_name": "Invert Image Colors",
  "description": "",
  "python_module": "nodes",
  "category": "image/color",
  "output_node": false,
  "has_intermediate_output": false,
  "search_aliases": [
    "reverse colors"
  ],
  "essentials_category": "Image Tools"
})json";

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context&) {
  const engine::image_ptr image = inputs.get_image("image");
  auto out = std::make_shared<engine::image_tensor>(*image);
  for (float& v : out->data) {
    v = 1.0F - v;
  }
  return single_output(engine::image_ptr(std::move(out)));
}

}  // namespace

engine::node_definition image_invert_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
