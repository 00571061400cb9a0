// Saving an IMAGE batch as numbered PNG files with the prompt and workflow in tEXt chunks.
#include "nodes/image/image_saver.hpp"

#include <cstdio>
#include <vector>

#include "common/file_io.hpp"
#include "image/codecs.hpp"
#include "nodes/image/python_json.hpp"
#include "nodes/image/save_path.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {

std::vector<image::png_text_chunk> save_metadata_chunks(engine::node_context& context) {
  std::vector<image::png_text_chunk> chunks;
  if (context.environment().disable_metadata) {
    return chunks;
  }
  if (!context.prompt().is_null()) {
    chunks.push_back({"prompt", python_json_dumps(context.prompt())});
  }
  const json& extra = context.extra_pnginfo();
  if (extra.is_object()) {
    for (const auto& [key, value] : extra.items()) {
      // PNG keywords are 1-79 bytes without NUL; a client's odd key must not fail the save.
      if (key.empty() || key.size() > 79 || key.find('\0') != std::string::npos) {
        continue;
      }
      chunks.push_back({key, python_json_dumps(value)});
    }
  }
  return chunks;
}

std::string numbered_file_name(std::string filename, int batch_index, std::int64_t counter) {
  const std::string token = "%batch_num%";
  const std::string index = std::to_string(batch_index);
  for (std::size_t at = filename.find(token); at != std::string::npos;
       at = filename.find(token, at + index.size())) {
    filename.replace(at, token.size(), index);
  }
  char number[32];
  std::snprintf(number, sizeof(number), "_%05lld_.png", static_cast<long long>(counter));
  return filename + number;
}

engine::node_result save_images(const engine::image_ptr& images, const save_options& options,
                                engine::node_context& context) {
  if (images->batch == 0) {
    throw engine::node_error("IndexError", "index 0 is out of bounds for dimension 0 with size 0");
  }
  if (images->channels < 1 || images->channels > 4) {
    throw engine::node_error(
        "TypeError", "Cannot save an image with " + std::to_string(images->channels) + " channels");
  }
  save_path path =
      get_save_image_path(options.filename_prefix, options.folder, images->width, images->height);
  const std::vector<image::png_text_chunk> chunks = save_metadata_chunks(context);

  json results = json::array();
  for (int i = 0; i < images->batch; ++i) {
    context.check_interrupt();
    const std::string file = numbered_file_name(path.filename, i, path.counter);
    const std::string png =
        image::encode_png(to_pixel_image(*images, i), options.compress_level, chunks);
    write_file_atomic(path.folder / file, png);
    json entry = json::object();
    entry["filename"] = file;
    entry["subfolder"] = path.subfolder;
    entry["type"] = options.type;
    results.push_back(std::move(entry));
    ++path.counter;
  }
  engine::node_result result = single_output(images);
  result.ui = json::object();
  result.ui["images"] = std::move(results);
  return result;
}

}  // namespace comfydist::nodes
