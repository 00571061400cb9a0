// ImageScale and ImageScaleBy: resizing to a size or by a factor through common_upscale.
#include <cmath>

#include "nodes/image/common_upscale.hpp"
#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view scale_info = R"json({
  "input": {
    "required": {
      "image": [
        "IMAGE"
      ],
      "upscale_method": [
        [
          "nearest-exact",
          "bilinear",
          "area",
          "bicubic",
          "lanczos"
        ]
      ],
      "width": [
        "INT",
        {
          "default": 512,
          "min": 0,
          "max": 16384,
          "step": 1
        }
      ],
      "height": [
        "INT",
        {
          "default": 512,
          "min": 0,
          "max": 16384,
          "step": 1
        }
      ],
      "crop": [
        [
          "disabled",
          "center"
        ]
      ]
    }
  },
  "input_order": {
    "required": [
      "image",
      "upscale_method",
      "width",
      "height",
      "crop"
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
  "name": "ImageScale",
  "display_name": "Upscale Image",
  "description": "",
  "python_module": "nodes",
  "category": "image/upscaling",
  "output_node": false,
  "has_intermediate_output": false,
  "search_aliases": [
    "resize",
    "resize image",
    "scale image",
    "image resize",
    "zoom",
    "zoom in",
    "change size"
  ],
  "essentials_category": "Image Tools"
})json";
constexpr std::string_view scale_by_info = R"json({
  "input": {
    "required": {
      "image": [
        "IMAGE"
      ],
      "upscale_method": [
        [
          "nearest-exact",
          "bilinear",
          "area",
          "bicubic",
          "lanczos"
        ]
      ],
      "scale_by": [
        "FLOAT",
        {
          "default": 1.0,
          "min": 0.01,
          "max": 8.0,
          "step": 0.01
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "image",
      "upscale_method",
      "scale_by"
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
  "name": "ImageScaleBy",
  "display_name": "Upscale Image By",
  "description": "",
  "python_module": "nodes",
  "category": "image/upscaling",
  "output_node": false,
  "has_intermediate_output": false,
  "search_aliases": [],
  "essentials_category": "Image Tools"
})json";

engine::node_result scale(const engine::node_inputs& inputs, engine::node_context& context) {
  const engine::image_ptr image = inputs.get_image("image");
  std::int64_t width = inputs.get_int("width");
  std::int64_t height = inputs.get_int("height");
  if (width == 0 && height == 0) {
    return single_output(image);
  }
  if (image->width == 0 || image->height == 0) {
    throw engine::node_error("ZeroDivisionError", "division by zero");
  }
  // Python round() of a float quotient: half to even.
  if (width == 0) {
    width = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::nearbyint(static_cast<double>(image->width) *
                                                    static_cast<double>(height) / image->height)));
  } else if (height == 0) {
    height = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::nearbyint(static_cast<double>(image->height) *
                                                    static_cast<double>(width) / image->width)));
  }
  return single_output(common_upscale(*image, width, height, inputs.get_string("upscale_method"),
                                      inputs.get_string("crop") == "center", context));
}

engine::node_result scale_by(const engine::node_inputs& inputs, engine::node_context& context) {
  const engine::image_ptr image = inputs.get_image("image");
  const double factor = inputs.get_float("scale_by");
  const auto width = static_cast<std::int64_t>(std::nearbyint(image->width * factor));
  const auto height = static_cast<std::int64_t>(std::nearbyint(image->height * factor));
  return single_output(
      common_upscale(*image, width, height, inputs.get_string("upscale_method"), false, context));
}

}  // namespace

engine::node_definition image_scale_node() {
  return make_definition(scale_info, scale);
}
engine::node_definition image_scale_by_node() {
  return make_definition(scale_by_info, scale_by);
}

}  // namespace comfydist::nodes
