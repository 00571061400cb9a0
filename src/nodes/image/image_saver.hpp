// The body of SaveImage.save_images, shared by SaveImage (output/) and PreviewImage (temp/).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/node_definition.hpp"
#include "image/codecs.hpp"

namespace comfydist::nodes {

struct save_options {
  std::filesystem::path folder;  // output or temp directory
  std::string type;              // "output" or "temp", as reported in the ui
  std::string filename_prefix;   // already with PreviewImage's prefix_append
  int compress_level = 4;
};

// The tEXt chunks SaveImage writes: the prompt and each extra_pnginfo entry (none when the
// environment disables metadata).
std::vector<image::png_text_chunk> save_metadata_chunks(engine::node_context& context);

// `<filename>_<counter:05>_.png`, with %batch_num% replaced by the batch index.
std::string numbered_file_name(std::string filename, int batch_index, std::int64_t counter);

// Writes each image of `images` as `<filename>_<counter:05>_.png` with ComfyUI's metadata and
// returns {"ui": {"images": [...]}, outputs: [images]}.
engine::node_result save_images(const engine::image_ptr& images, const save_options& options,
                                engine::node_context& context);

}  // namespace comfydist::nodes
