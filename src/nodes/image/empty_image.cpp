// EmptyImage: a batch of images filled with one 0xRRGGBB colour.
#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "width": [
        "INT",
        {
          "default": 512,
          "min": 1,
          "max": 16384,
          "step": 1
        }
      ],
      "height": [
        "INT",
        {
          "default": 512,
          "min": 1,
          "max": 16384,
          "step": 1
        }
      ],
      "batch_size": [
        "INT",
        {
          "default": 1,
          "min": 1,
          "max": 4096
        }
      ],
      "color": [
        "INT",
        {
          "default": 0,
          "min": 0,
          "max": 16777215,
          "step": 1,
          "display": "color"
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "width",
      "height",
      "batch_size",
      "color"
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
  "name": "EmptyImage",
  "display_name": "Empty Image",
  "description": "",
  "python_module": "nodes",
  "category": "image",
  "output_node": false,
  "has_intermediate_output": false,
  "search_aliases": []
})json";

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context&) {
  const std::int64_t width = inputs.get_int("width");
  const std::int64_t height = inputs.get_int("height");
  const std::int64_t batch = inputs.get_int("batch_size");
  const std::int64_t color = inputs.get_int("color");
  auto out = allocate_image(batch, height, width, 3);
  // Python divides in float64 and torch.full stores float32.
  const float rgb[3] = {static_cast<float>(static_cast<double>((color >> 16) & 0xFF) / 0xFF),
                        static_cast<float>(static_cast<double>((color >> 8) & 0xFF) / 0xFF),
                        static_cast<float>(static_cast<double>(color & 0xFF) / 0xFF)};
  for (std::size_t i = 0; i < out->data.size(); i += 3) {
    out->data[i] = rgb[0];
    out->data[i + 1] = rgb[1];
    out->data[i + 2] = rgb[2];
  }
  return single_output(engine::image_ptr(std::move(out)));
}

}  // namespace

engine::node_definition empty_image_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
