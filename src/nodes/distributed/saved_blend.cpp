// DistributedSaveBlended: the master's internal stand-in for a SaveImage that takes a tiled job's
// blended image directly. It saves the blended PNG (temp/, `file`) as SaveImage would save that
// image — same folder, name, counter and metadata — by copying its chunks, so a 16384² result is
// never decoded into a 3.2 GB IMAGE tensor just to be encoded again. Master only: it reads the
// master's temp folder.
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "common/safe_path.hpp"
#include "image/png_files.hpp"
#include "nodes/distributed/distributed_catalog.hpp"
#include "nodes/image/image_saver.hpp"
#include "nodes/image/save_path.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "file": [
        "STRING",
        {}
      ],
      "filename_prefix": [
        "STRING",
        {
          "default": "ComfyUI"
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
      "file",
      "filename_prefix"
    ],
    "hidden": [
      "prompt",
      "extra_pnginfo"
    ]
  },
  "is_input_list": false,
  "output": [],
  "output_is_list": [],
  "output_name": [],
  "name": "DistributedSaveBlended",
  "display_name": "Distributed Save Blended",
  "description": "Saves a tiled job's blended image as SaveImage would (master only).",
  "python_module": "comfydist",
  "category": "image",
  "output_node": true,
  "has_intermediate_output": false
})json";

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const std::string file = inputs.get_string("file");
  const std::optional<fs::path> source = confine_path(context.environment().temp_dir, file);
  if (!source) {
    throw engine::node_error("ValueError", "Refusing to read blended image '" + file +
                                               "': the name leaves the temp folder");
  }
  image::png_size size;
  try {
    size = image::read_png_size(*source);
  } catch (const std::exception& ex) {
    throw engine::node_error("FileNotFoundError",
                             "Blended image '" + file + "' cannot be read: " + ex.what());
  }
  const std::string prefix =
      inputs.has("filename_prefix") ? inputs.get_string("filename_prefix") : "ComfyUI";
  const save_path path =
      get_save_image_path(prefix, context.environment().output_dir, size.width, size.height);
  context.check_interrupt();
  const std::string name = numbered_file_name(path.filename, 0, path.counter);
  image::copy_png_with_text(*source, path.folder / name, save_metadata_chunks(context));
  json entry = json::object();
  entry["filename"] = name;
  entry["subfolder"] = path.subfolder;
  entry["type"] = "output";
  engine::node_result result;
  result.ui = json::object();
  result.ui["images"] = json::array({entry});
  return result;
}

}  // namespace

engine::node_definition distributed_save_blended_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
