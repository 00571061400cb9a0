// ImageFromBatch: `length` images from `batch_index` (negative counts from the end), both clamped
// to the batch.
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
      "batch_index": [
        "INT",
        {
          "default": 0,
          "min": -16384,
          "max": 16384
        }
      ],
      "length": [
        "INT",
        {
          "default": 1,
          "min": 1,
          "max": 4096
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "image",
      "batch_index",
      "length"
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
  "name": "ImageFromBatch",
  "display_name": "Get Image from Batch",
  "description": "",
  "python_module": "comfy_extras.nodes_images",
  "category": "image/batch",
  "output_node": false,
  "deprecated": false,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": [
    "select image",
    "pick from batch",
    "extract image"
  ],
  "essentials_category": null,
  "has_intermediate_output": false
})json";

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context&) {
  const engine::image_ptr image = inputs.get_image("image");
  const std::int64_t batch = image->batch;
  std::int64_t index = inputs.get_int("batch_index");
  if (index < 0) {
    index += batch;
  }
  index = std::max<std::int64_t>(0, std::min(batch - 1, index));
  // Python slicing clamps to the batch, so an empty batch yields an empty result.
  const std::int64_t begin = std::min(index, batch);
  const std::int64_t end =
      std::clamp(begin + std::min(batch - index, inputs.get_int("length")), begin, batch);
  auto out = allocate_image(end - begin, image->height, image->width, image->channels);
  const auto per_image = static_cast<std::ptrdiff_t>(image->image_elements());
  std::copy(image->data.begin() + begin * per_image, image->data.begin() + end * per_image,
            out->data.begin());
  return single_output(engine::image_ptr(std::move(out)));
}

}  // namespace

engine::node_definition image_from_batch_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
