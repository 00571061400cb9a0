// PreviewImage: SaveImage into temp/ with a random prefix kept for the node instance's life.
#include <random>

#include "nodes/image/image_saver.hpp"
#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "images": [
        "IMAGE"
      ]
    },
    "hidden": {
      "prompt": "PROMPT",
      "extra_pnginfo": "EXTRA_PNGINFO"
    }
  },
  "input_order": {
    "required": [
      "images"
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
  "name": "PreviewImage",
  "display_name": "Preview Image",
  "description": "Saves the input images to your ComfyUI output directory.",
  "python_module": "nodes",
  "category": "image",
  "output_node": true,
  "has_intermediate_output": false,
  "search_aliases": [
    "preview",
    "preview image",
    "show image",
    "view image",
    "display image",
    "image viewer"
  ],
  "essentials_category": "Basics"
})json";

std::string random_suffix() {
  // Spelled as upstream: 'p' twice and no 'w'.
  static constexpr std::string_view alphabet = "abcdefghijklmnopqrstupvxyz";
  thread_local std::mt19937 engine{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (int i = 0; i < 5; ++i) {
    out += alphabet[pick(engine)];
  }
  return out;
}

class preview_image : public engine::node_instance {
 public:
  preview_image() : prefix_("ComfyUI_temp_" + random_suffix()) {}

  engine::node_result execute(const engine::node_inputs& inputs,
                              engine::node_context& context) override {
    save_options options;
    options.folder = context.environment().temp_dir;
    options.type = "temp";
    options.filename_prefix = prefix_;
    options.compress_level = 1;
    return save_images(inputs.get_image("images"), options, context);
  }

 private:
  std::string prefix_;
};

}  // namespace

engine::node_definition preview_image_node() {
  engine::node_definition definition;
  definition.info = json::parse(info);
  definition.create = [] { return std::make_unique<preview_image>(); };
  return definition;
}

}  // namespace comfydist::nodes
