// comfy.utils.common_upscale for IMAGE batches: optional centre crop to the target aspect, then
// resampling with PyTorch's or Pillow's arithmetic (image/resample.hpp).
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/node_definition.hpp"

namespace comfydist::nodes {

// Resizes every image of the batch to width × height. `method` is one of ComfyUI's names
// ("nearest-exact", "bilinear", "area", "bicubic", "lanczos"); `center_crop` is crop ==
// "center". Checks the size limit before allocating and the interrupt flag per image.
engine::image_ptr common_upscale(const engine::image_tensor& images, std::int64_t width,
                                 std::int64_t height, std::string_view method, bool center_crop,
                                 engine::node_context& context);

}  // namespace comfydist::nodes
