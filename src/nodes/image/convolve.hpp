// The shared body of ImageBlur and ImageSharpen: a per-channel kernel over a reflect border.
#pragma once

#include <vector>

#include "engine/node_definition.hpp"

namespace comfydist::nodes {

// Convolves every image of the batch with `kernel` (kernel_size², odd size) over a 'reflect'
// border, clamping the result to 0..1 when `clamp` is set. Refuses a radius that reaches the
// image's size, as F.pad(..., 'reflect') does.
engine::image_ptr convolve_batch(const engine::image_tensor& images,
                                 const std::vector<float>& kernel, int kernel_size, bool clamp,
                                 engine::node_context& context);

}  // namespace comfydist::nodes
