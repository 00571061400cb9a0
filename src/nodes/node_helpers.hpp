// Plumbing shared by node files: definitions from captured schemas, stateless instances, tensor
// allocation within the limits, and the float→8-bit conversion every image writer uses.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "engine/node_definition.hpp"
#include "engine/tensor.hpp"
#include "image/pixel_image.hpp"

namespace comfydist::nodes {

using execute_function =
    std::function<engine::node_result(const engine::node_inputs&, engine::node_context&)>;

// A definition with `info` parsed from the captured object_info text and stateless instances
// that run `execute`.
engine::node_definition make_definition(std::string_view info_json, execute_function execute);

engine::node_result single_output(engine::node_value value);

// Zero-filled (or `fill`-filled) tensors, refused with a ValueError above the limits.
std::shared_ptr<engine::image_tensor> allocate_image(std::int64_t batch, std::int64_t height,
                                                     std::int64_t width, std::int64_t channels,
                                                     float fill = 0.0F);
std::shared_ptr<engine::mask_tensor> allocate_mask(std::int64_t batch, std::int64_t height,
                                                   std::int64_t width, float fill = 0.0F);

// np.clip(255. * x, 0, 255).astype(np.uint8) for one image of the batch: truncation, not
// rounding; NaN becomes 0.
image::pixel_image to_pixel_image(const engine::image_tensor& images, int index);

}  // namespace comfydist::nodes
