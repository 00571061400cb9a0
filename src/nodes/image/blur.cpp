// ImageBlur: Gaussian blur over a reflect border; sigma is relative to the radius. No clamping.
#include "image/filters.hpp"
#include "nodes/image/convolve.hpp"
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
      "blur_radius": [
        "INT",
        {
          "default": 1,
          "min": 1,
          "max": 31,
          "step": 1
        }
      ],
      "sigma": [
        "FLOAT",
        {
          "default": 1.0,
          "min": 0.1,
          "max": 10.0,
          "step": 0.1
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "image",
      "blur_radius",
      "sigma"
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
  "name": "ImageBlur",
  "display_name": "Blur Image",
  "description": "",
  "python_module": "comfy_extras.nodes_post_processing",
  "category": "image/filters",
  "output_node": false,
  "deprecated": false,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": null,
  "essentials_category": null,
  "has_intermediate_output": false
})json";

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const engine::image_ptr image = inputs.get_image("image");
  const auto radius = static_cast<int>(inputs.get_int("blur_radius"));
  if (radius == 0) {
    return single_output(image);
  }
  const int size = 2 * radius + 1;
  const auto sigma = static_cast<float>(inputs.get_float("sigma"));
  return single_output(
      convolve_batch(*image, image::gaussian_kernel(size, sigma), size, false, context));
}

}  // namespace

engine::node_definition image_blur_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
