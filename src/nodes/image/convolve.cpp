// Batch convolution for ImageBlur and ImageSharpen.
#include "nodes/image/convolve.hpp"

#include <algorithm>
#include <string>

#include "image/filters.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {

engine::image_ptr convolve_batch(const engine::image_tensor& images,
                                 const std::vector<float>& kernel, int kernel_size, bool clamp,
                                 engine::node_context& context) {
  const int radius = kernel_size / 2;
  // torch's reflection_pad2d checks the width first, then the height.
  const auto check = [&](int size, int dim) {
    if (radius >= size) {
      throw engine::node_error(
          "RuntimeError",
          "Argument #4: Padding size should be less than the corresponding input dimension, but "
          "got: padding (" +
              std::to_string(radius) + ", " + std::to_string(radius) + ") at dimension " +
              std::to_string(dim) + " of input [" + std::to_string(images.batch) + ", " +
              std::to_string(images.channels) + ", " + std::to_string(images.height) + ", " +
              std::to_string(images.width) + "]");
    }
  };
  check(images.width, 3);
  check(images.height, 2);
  auto out = allocate_image(images.batch, images.height, images.width, images.channels);
  for (int b = 0; b < images.batch; ++b) {
    context.check_interrupt();
    std::vector<float> result =
        image::convolve_reflect(images.image(b), images.height, images.width, images.channels,
                                kernel, kernel_size, [&context] { context.check_interrupt(); });
    if (clamp) {
      for (float& v : result) {
        v = std::clamp(v, 0.0F, 1.0F);
      }
    }
    std::copy(result.begin(), result.end(), out->image(b));
  }
  return out;
}

}  // namespace comfydist::nodes
