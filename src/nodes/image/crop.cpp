// ImageCrop: image[:, y:y+height, x:x+width, :] with x and y clamped inside the image; the slice
// stops at the border, so the result can be smaller than asked.
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
      "x": [
        "INT",
        {
          "default": 0,
          "min": 0,
          "max": 16384,
          "step": 1
        }
      ],
      "y": [
        "INT",
        {
          "default": 0,
          "min": 0,
          "max": 16384,
          "step": 1
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "image",
      "width",
      "height",
      "x",
      "y"
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
  "name": "ImageCrop",
  "display_name": "Crop Image (DEPRECATED)",
  "description": "",
  "python_module": "comfy_extras.nodes_images",
  "category": "image/transform",
  "output_node": false,
  "deprecated": true,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": [
    "trim"
  ],
  "essentials_category": "Image Tools",
  "has_intermediate_output": false
})json";

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const engine::image_ptr image = inputs.get_image("image");
  // Python's min(x, W-1) then slicing clamps both ends into [0, W].
  const auto slice = [](std::int64_t start, std::int64_t length, std::int64_t size) {
    start = std::min(start, size - 1);
    const std::int64_t begin = std::clamp<std::int64_t>(start, 0, size);
    const std::int64_t end = std::clamp<std::int64_t>(start + length, begin, size);
    return std::pair{begin, end};
  };
  const auto [x0, x1] = slice(inputs.get_int("x"), inputs.get_int("width"), image->width);
  const auto [y0, y1] = slice(inputs.get_int("y"), inputs.get_int("height"), image->height);
  auto out = allocate_image(image->batch, y1 - y0, x1 - x0, image->channels);
  const auto c = static_cast<std::size_t>(image->channels);
  const std::size_t row_values = static_cast<std::size_t>(x1 - x0) * c;
  for (int b = 0; b < image->batch; ++b) {
    context.check_interrupt();
    float* dst = out->image(b);
    for (std::int64_t y = y0; y < y1; ++y) {
      const float* src = image->image(b) + (static_cast<std::size_t>(y) * image->width + x0) * c;
      std::copy_n(src, row_values, dst);
      dst += row_values;
    }
  }
  return single_output(engine::image_ptr(std::move(out)));
}

}  // namespace

engine::node_definition image_crop_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
