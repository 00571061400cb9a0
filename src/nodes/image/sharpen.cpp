// ImageSharpen: an unsharp kernel (Gaussian × -(alpha·10), centre raised to sum 1), clamped to
// 0..1.
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
      "sharpen_radius": [
        "INT",
        {
          "advanced": true,
          "default": 1,
          "min": 1,
          "max": 31,
          "step": 1
        }
      ],
      "sigma": [
        "FLOAT",
        {
          "advanced": true,
          "default": 1.0,
          "min": 0.1,
          "max": 10.0,
          "step": 0.01
        }
      ],
      "alpha": [
        "FLOAT",
        {
          "advanced": true,
          "default": 1.0,
          "min": 0.0,
          "max": 5.0,
          "step": 0.01
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "image",
      "sharpen_radius",
      "sigma",
      "alpha"
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
  "name": "ImageSharpen",
  "display_name": "Sharpen Image",
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
  const auto radius = static_cast<int>(inputs.get_int("sharpen_radius"));
  if (radius == 0) {
    return single_output(image);
  }
  const int size = 2 * radius + 1;
  const auto sigma = static_cast<float>(inputs.get_float("sigma"));
  const auto alpha = static_cast<float>(inputs.get_float("alpha"));
  return single_output(
      convolve_batch(*image, image::sharpen_kernel(size, sigma, alpha), size, true, context));
}

}  // namespace

engine::node_definition image_sharpen_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
