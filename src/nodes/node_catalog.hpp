// The definition factories of the built-in nodes, one per node file.
#pragma once

#include "engine/node_definition.hpp"

namespace comfydist::nodes {

engine::node_definition empty_image_node();
engine::node_definition save_image_node();
engine::node_definition preview_image_node();
engine::node_definition load_image_node();
engine::node_definition image_invert_node();
engine::node_definition image_scale_node();
engine::node_definition image_scale_by_node();
engine::node_definition image_blur_node();
engine::node_definition image_sharpen_node();
engine::node_definition image_batch_node();
engine::node_definition image_crop_node();
engine::node_definition image_flip_node();
engine::node_definition image_rotate_node();
engine::node_definition repeat_image_batch_node();
engine::node_definition image_from_batch_node();
engine::node_definition image_add_noise_node();
engine::node_definition upscale_model_loader_node();
engine::node_definition image_upscale_with_model_node();
engine::node_definition primitive_int_node();
engine::node_definition primitive_float_node();
engine::node_definition primitive_string_node();
engine::node_definition primitive_string_multiline_node();
engine::node_definition primitive_boolean_node();

}  // namespace comfydist::nodes
