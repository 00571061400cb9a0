// Shared plumbing for node files.
#include "nodes/node_helpers.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "nodes/limits.hpp"

namespace comfydist::nodes {
namespace {

class function_node : public engine::node_instance {
 public:
  explicit function_node(std::shared_ptr<const execute_function> execute)
      : execute_(std::move(execute)) {}
  engine::node_result execute(const engine::node_inputs& inputs,
                              engine::node_context& context) override {
    return (*execute_)(inputs, context);
  }

 private:
  std::shared_ptr<const execute_function> execute_;
};

}  // namespace

engine::node_definition make_definition(std::string_view info_json, execute_function execute) {
  engine::node_definition definition;
  definition.info = json::parse(info_json);
  auto shared = std::make_shared<const execute_function>(std::move(execute));
  definition.create = [shared]() -> std::unique_ptr<engine::node_instance> {
    return std::make_unique<function_node>(shared);
  };
  return definition;
}

engine::node_result single_output(engine::node_value value) {
  engine::node_result result;
  result.outputs.push_back(std::move(value));
  return result;
}

std::shared_ptr<engine::image_tensor> allocate_image(std::int64_t batch, std::int64_t height,
                                                     std::int64_t width, std::int64_t channels,
                                                     float fill) {
  check_tensor_size(batch, height, width, channels);
  return std::make_shared<engine::image_tensor>(static_cast<int>(batch), static_cast<int>(height),
                                                static_cast<int>(width), static_cast<int>(channels),
                                                fill);
}

std::shared_ptr<engine::mask_tensor> allocate_mask(std::int64_t batch, std::int64_t height,
                                                   std::int64_t width, float fill) {
  check_tensor_size(batch, height, width, 1);
  return std::make_shared<engine::mask_tensor>(static_cast<int>(batch), static_cast<int>(height),
                                               static_cast<int>(width), fill);
}

image::pixel_image to_pixel_image(const engine::image_tensor& images, int index) {
  image::pixel_image out;
  out.width = images.width;
  out.height = images.height;
  out.channels = images.channels;
  out.pixels.resize(images.image_elements());
  const float* src = images.image(index);
  for (std::size_t i = 0; i < out.pixels.size(); ++i) {
    const float v = 255.0F * src[i];
    out.pixels[i] = std::isnan(v) ? 0 : static_cast<std::uint8_t>(std::clamp(v, 0.0F, 255.0F));
  }
  return out;
}

}  // namespace comfydist::nodes
