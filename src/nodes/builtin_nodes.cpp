// Registration of the native nodes.
#include "nodes/builtin_nodes.hpp"

#include "nodes/node_catalog.hpp"

namespace comfydist::nodes {

void register_builtin_nodes(engine::node_registry& registry) {
  registry.add(empty_image_node());
  registry.add(save_image_node());
  registry.add(preview_image_node());
  registry.add(load_image_node());
  registry.add(image_invert_node());
  registry.add(image_scale_node());
  registry.add(image_scale_by_node());
  registry.add(image_blur_node());
  registry.add(image_sharpen_node());
  registry.add(image_batch_node());
  registry.add(image_crop_node());
  registry.add(image_flip_node());
  registry.add(image_rotate_node());
  registry.add(repeat_image_batch_node());
  registry.add(image_from_batch_node());
  registry.add(image_add_noise_node());
  registry.add(upscale_model_loader_node());
  registry.add(image_upscale_with_model_node());
  registry.add(primitive_int_node());
  registry.add(primitive_float_node());
  registry.add(primitive_string_node());
  registry.add(primitive_string_multiline_node());
  registry.add(primitive_boolean_node());
}

}  // namespace comfydist::nodes
