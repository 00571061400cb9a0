// The body of SaveImage.save_images, shared by SaveImage (output/) and PreviewImage (temp/).
#pragma once

#include <filesystem>
#include <string>

#include "engine/node_definition.hpp"

namespace comfydist::nodes {

struct save_options {
  std::filesystem::path folder;  // output or temp directory
  std::string type;              // "output" or "temp", as reported in the ui
  std::string filename_prefix;   // already with PreviewImage's prefix_append
  int compress_level = 4;
};

// Writes each image of `images` as `<filename>_<counter:05>_.png` with ComfyUI's metadata and
// returns {"ui": {"images": [...]}, outputs: [images]}.
engine::node_result save_images(const engine::image_ptr& images, const save_options& options,
                                engine::node_context& context);

}  // namespace comfydist::nodes
