// ImageFlip: "x-axis: vertically" reverses the rows (torch.flip dims=[1]), "y-axis: horizontally"
// the columns (dims=[2]).
#include <algorithm>

#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "image": [
        "IMAGE",
        {}
      ],
      "flip_method": [
        "COMBO",
        {
          "multiselect": false,
          "options": [
            "x-axis: vertically",
            "y-axis: horizontally"
          ]
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "image",
      "flip_method"
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
  "output_tooltips": [
    null
  ],
  "output_matchtypes": null,
  "name": "ImageFlip",
  "display_name": "Flip Image",
  "description": "",
  "python_module": "comfy_extras.nodes_images",
  "category": "image/transform",
  "output_node": false,
  "deprecated": false,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": [
    "mirror",
    "reflect"
  ],
  "essentials_category": null,
  "has_intermediate_output": false
})json";

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const engine::image_ptr image = inputs.get_image("image");
  const std::string& method = inputs.get_string("flip_method");
  const bool vertical = method.rfind('x', 0) == 0;
  const bool horizontal = method.rfind('y', 0) == 0;
  if (!vertical && !horizontal) {
    return single_output(image);
  }
  auto out = allocate_image(image->batch, image->height, image->width, image->channels);
  const int h = image->height;
  const int w = image->width;
  const auto c = static_cast<std::size_t>(image->channels);
  for (int b = 0; b < image->batch; ++b) {
    context.check_interrupt();
    const float* src = image->image(b);
    float* dst = out->image(b);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const int sy = vertical ? h - 1 - y : y;
        const int sx = horizontal ? w - 1 - x : x;
        std::copy_n(src + (static_cast<std::size_t>(sy) * w + sx) * c, c,
                    dst + (static_cast<std::size_t>(y) * w + x) * c);
      }
    }
  }
  return single_output(engine::image_ptr(std::move(out)));
}

}  // namespace

engine::node_definition image_flip_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
