// Centre crop and resampling of IMAGE batches, as comfy.utils.common_upscale does them.
#include "nodes/image/common_upscale.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "image/resample.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {

engine::image_ptr common_upscale(const engine::image_tensor& images, std::int64_t width,
                                 std::int64_t height, std::string_view method, bool center_crop,
                                 engine::node_context& context) {
  if (width <= 0 || height <= 0) {
    throw engine::node_error("ValueError",
                             "Input and output sizes should be greater than 0, but "
                             "got output (H: " +
                                 std::to_string(height) + ", W: " + std::to_string(width) + ")");
  }
  image::resample_method resample_method{};
  try {
    resample_method = image::parse_resample_method(method);
  } catch (const std::invalid_argument& ex) {
    throw engine::node_error("ValueError", ex.what());
  }
  auto out = allocate_image(images.batch, height, width, images.channels);

  int x = 0;
  int y = 0;
  if (center_crop && images.width > 0 && images.height > 0) {
    // Python: float division and round() half to even (nearbyint's default mode).
    const double old_aspect = static_cast<double>(images.width) / images.height;
    const double new_aspect = static_cast<double>(width) / static_cast<double>(height);
    if (old_aspect > new_aspect) {
      x = static_cast<int>(
          std::nearbyint((images.width - images.width * (new_aspect / old_aspect)) / 2));
    } else if (old_aspect < new_aspect) {
      y = static_cast<int>(
          std::nearbyint((images.height - images.height * (old_aspect / new_aspect)) / 2));
    }
  }
  const int crop_width = images.width - 2 * x;
  const int crop_height = images.height - 2 * y;
  const int channels = images.channels;
  std::vector<float> cropped;
  for (int b = 0; b < images.batch; ++b) {
    context.check_interrupt();
    const float* source = images.image(b);
    if (x != 0 || y != 0) {
      cropped.resize(static_cast<std::size_t>(crop_width) * crop_height * channels);
      for (int row = 0; row < crop_height; ++row) {
        const float* from =
            source + (static_cast<std::size_t>(row + y) * images.width + x) * channels;
        std::copy(from, from + static_cast<std::size_t>(crop_width) * channels,
                  cropped.begin() + static_cast<std::ptrdiff_t>(row) * crop_width * channels);
      }
      source = cropped.data();
    }
    const std::vector<float> resized =
        image::resample(source, crop_height, crop_width, channels, static_cast<int>(height),
                        static_cast<int>(width), resample_method);
    std::copy(resized.begin(), resized.end(), out->image(b));
  }
  return out;
}

}  // namespace comfydist::nodes
