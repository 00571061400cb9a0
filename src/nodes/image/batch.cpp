// ImageBatch (v0.26): image2 appended to image1's batch, after a channel of 1.0 is added to the
// image with fewer channels and image2 is rescaled (bilinear, centre crop) to image1's size.
#include <algorithm>

#include "nodes/image/common_upscale.hpp"
#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "image1": [
        "IMAGE"
      ],
      "image2": [
        "IMAGE"
      ]
    }
  },
  "input_order": {
    "required": [
      "image1",
      "image2"
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
  "name": "ImageBatch",
  "display_name": "Batch Images (DEPRECATED)",
  "description": "",
  "python_module": "nodes",
  "category": "image/batch",
  "output_node": false,
  "has_intermediate_output": false,
  "deprecated": true,
  "search_aliases": [
    "combine images",
    "merge images",
    "stack images"
  ]
})json";

// F.pad(x, (0, 1), value=1.0): one more channel, filled with 1.
engine::image_ptr add_opaque_channel(const engine::image_tensor& images,
                                     engine::node_context& context) {
  auto out = allocate_image(images.batch, images.height, images.width, images.channels + 1, 1.0F);
  const std::size_t pixels = static_cast<std::size_t>(images.batch) * images.height * images.width;
  const auto in_c = static_cast<std::size_t>(images.channels);
  for (std::size_t p = 0; p < pixels; ++p) {
    if (p % (std::size_t{1} << 20) == 0) {
      context.check_interrupt();
    }
    std::copy_n(images.data.begin() + static_cast<std::ptrdiff_t>(p * in_c), in_c,
                out->data.begin() + static_cast<std::ptrdiff_t>(p * (in_c + 1)));
  }
  return out;
}

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  engine::image_ptr image1 = inputs.get_image("image1");
  engine::image_ptr image2 = inputs.get_image("image2");
  if (image1->channels > image2->channels) {
    image2 = add_opaque_channel(*image2, context);
  } else if (image1->channels < image2->channels) {
    image1 = add_opaque_channel(*image1, context);
  }
  if (image1->height != image2->height || image1->width != image2->width ||
      image1->channels != image2->channels) {
    image2 = common_upscale(*image2, image1->width, image1->height, "bilinear", true, context);
  }
  if (image1->channels != image2->channels) {
    throw engine::node_error(
        "RuntimeError", "Sizes of tensors must match except in dimension 0. Expected size " +
                            std::to_string(image1->channels) + " but got size " +
                            std::to_string(image2->channels) + " for tensor number 1 in the list.");
  }
  auto out = allocate_image(static_cast<std::int64_t>(image1->batch) + image2->batch,
                            image1->height, image1->width, image1->channels);
  std::copy(image1->data.begin(), image1->data.end(), out->data.begin());
  std::copy(image2->data.begin(), image2->data.end(),
            out->data.begin() + static_cast<std::ptrdiff_t>(image1->data.size()));
  return single_output(engine::image_ptr(std::move(out)));
}

}  // namespace

engine::node_definition image_batch_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
