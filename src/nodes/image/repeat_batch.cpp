// RepeatImageBatch: image.repeat((amount, 1, 1, 1)), the whole batch `amount` times over.
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
      "amount": [
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
      "amount"
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
  "name": "RepeatImageBatch",
  "display_name": "Repeat Image Batch",
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
    "duplicate image",
    "clone image"
  ],
  "essentials_category": null,
  "has_intermediate_output": false
})json";

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const engine::image_ptr image = inputs.get_image("image");
  const std::int64_t amount = inputs.get_int("amount");
  auto out =
      allocate_image(static_cast<std::int64_t>(image->batch) * std::max<std::int64_t>(amount, 0),
                     image->height, image->width, image->channels);
  auto dst = out->data.begin();
  for (std::int64_t i = 0; i < amount; ++i) {
    context.check_interrupt();
    dst = std::copy(image->data.begin(), image->data.end(), dst);
  }
  return single_output(engine::image_ptr(std::move(out)));
}

}  // namespace

engine::node_definition repeat_image_batch_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
