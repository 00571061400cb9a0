// ImageRotate: torch.rot90(image, k, dims=[2, 1]), i.e. k quarter turns clockwise.
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
      "rotation": [
        "COMBO",
        {
          "multiselect": false,
          "options": [
            "none",
            "90 degrees",
            "180 degrees",
            "270 degrees"
          ]
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "image",
      "rotation"
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
  "name": "ImageRotate",
  "display_name": "Rotate Image",
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
    "turn",
    "flip orientation"
  ],
  "essentials_category": "Image Tools",
  "has_intermediate_output": false
})json";

int quarter_turns(const std::string& rotation) {
  if (rotation.rfind("90", 0) == 0) {
    return 1;
  }
  if (rotation.rfind("180", 0) == 0) {
    return 2;
  }
  if (rotation.rfind("270", 0) == 0) {
    return 3;
  }
  return 0;
}

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const engine::image_ptr image = inputs.get_image("image");
  const int k = quarter_turns(inputs.get_string("rotation"));
  if (k == 0) {
    return single_output(image);
  }
  const int h = image->height;
  const int w = image->width;
  const int out_h = k == 2 ? h : w;
  const int out_w = k == 2 ? w : h;
  auto out = allocate_image(image->batch, out_h, out_w, image->channels);
  const auto c = static_cast<std::size_t>(image->channels);
  for (int b = 0; b < image->batch; ++b) {
    context.check_interrupt();
    const float* src = image->image(b);
    float* dst = out->image(b);
    for (int i = 0; i < out_h; ++i) {
      for (int j = 0; j < out_w; ++j) {
        int sy = 0;
        int sx = 0;
        if (k == 1) {
          sy = h - 1 - j;
          sx = i;
        } else if (k == 2) {
          sy = h - 1 - i;
          sx = w - 1 - j;
        } else {
          sy = j;
          sx = w - 1 - i;
        }
        std::copy_n(src + (static_cast<std::size_t>(sy) * w + sx) * c, c,
                    dst + (static_cast<std::size_t>(i) * out_w + j) * c);
      }
    }
  }
  return single_output(engine::image_ptr(std::move(out)));
}

}  // namespace

engine::node_definition image_rotate_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
