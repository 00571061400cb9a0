// ImageBatchDivider (ComfyUI-Distributed): a batch split into divide_by contiguous chunks, the
// first total % divide_by chunks one frame longer; used after a collector to give each GPU's clip
// back its own output. ComfyUI-Distributed declares its ten outputs through a ByPassTypeTuple;
// they are spelt out here because the validator checks link slots against "output".
//
// Outputs past divide_by, and chunks left empty when there are fewer frames than chunks, are
// 0×H×W×C batches as in ComfyUI-Distributed: image_tensor holds batch 0, and the image writers
// and batch nodes loop over the batch, so downstream nodes see "no frames" rather than an error.
#include <algorithm>

#include "nodes/distributed/distributed_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr int kMaxChunks = 10;

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "images": [
        "IMAGE"
      ],
      "divide_by": [
        "INT",
        {
          "default": 2,
          "min": 1,
          "max": 10,
          "step": 1
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "images",
      "divide_by"
    ]
  },
  "is_input_list": false,
  "output": [
    "IMAGE",
    "IMAGE",
    "IMAGE",
    "IMAGE",
    "IMAGE",
    "IMAGE",
    "IMAGE",
    "IMAGE",
    "IMAGE",
    "IMAGE"
  ],
  "output_is_list": [
    false,
    false,
    false,
    false,
    false,
    false,
    false,
    false,
    false,
    false
  ],
  "output_name": [
    "batch_1",
    "batch_2",
    "batch_3",
    "batch_4",
    "batch_5",
    "batch_6",
    "batch_7",
    "batch_8",
    "batch_9",
    "batch_10"
  ],
  "name": "ImageBatchDivider",
  "display_name": "Image Batch Divider",
  "description": "",
  "python_module": "custom_nodes.ComfyUI-Distributed",
  "category": "image",
  "output_node": true,
  "has_intermediate_output": false
})json";

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const engine::image_ptr images = inputs.get_image("images");
  const std::int64_t divide_by = inputs.get_int("divide_by");
  if (divide_by < 1 || divide_by > kMaxChunks) {
    throw engine::node_error(
        "ValueError", "divide_by must be between 1 and 10, got " + std::to_string(divide_by));
  }
  const int chunks = static_cast<int>(divide_by);
  const int base = images->batch / chunks;
  const int extra = images->batch % chunks;
  engine::node_result result;
  int start = 0;
  for (int i = 0; i < kMaxChunks; ++i) {
    const int size = i < chunks ? base + (i < extra ? 1 : 0) : 0;
    context.check_interrupt();
    auto chunk = allocate_image(size, images->height, images->width, images->channels);
    if (size > 0) {
      std::copy(images->image(start), images->image(start + size), chunk->data.begin());
    }
    start += size;
    result.outputs.emplace_back(engine::image_ptr(std::move(chunk)));
  }
  return result;
}

}  // namespace

engine::node_definition image_batch_divider_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
