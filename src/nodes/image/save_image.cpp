// SaveImage: numbered PNGs in output/, with the prompt and workflow as metadata.
#include "nodes/image/image_saver.hpp"
#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "images": [
        "IMAGE",
        {
          "tooltip": "The images to save."
        }
      ],
      "filename_prefix": [
        "STRING",
        {
          "default": "ComfyUI",
          "tooltip": "The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes."
        }
      ]
    },
    "hidden": {
      "prompt": "PROMPT",
      "extra_pnginfo": "EXTRA_PNGINFO"
    }
  },
  "input_order": {
    "required": [
      "images",
      "filename_prefix"
    ],
    "hidden": [
      "prompt",
      "extra_pnginfo"
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
    "images"
  ],
  "name": "SaveImage",
  "display_name": "Save Image",
  "description": "Saves the input images to your ComfyUI output directory.",
  "python_module": "nodes",
  "category": "image",
  "output_node": true,
  "has_intermediate_output": false,
  "search_aliases": [
    "save",
    "save image",
    "export image",
    "output image",
    "write image",
    "download"
  ],
  "essentials_category": "Basics"
})json";

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  save_options options;
  options.folder = context.environment().output_dir;
  options.type = "output";
  options.filename_prefix =
      inputs.has("filename_prefix") ? inputs.get_string("filename_prefix") : "ComfyUI";
  options.compress_level = 4;
  return save_images(inputs.get_image("images"), options, context);
}

}  // namespace

engine::node_definition save_image_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
