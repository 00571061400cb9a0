// DistributedGatheredImages: the master's internal source node that stands in for the subgraph
// feeding a DistributedCollector. Its `files` input lists the images the units delivered (saved
// under temp/), and it returns them decoded as one RGB IMAGE batch in list order. Only the master
// registers it, so a prompt sent to a worker can never make the worker read its own temp folder.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "common/file_io.hpp"
#include "common/safe_path.hpp"
#include "image/codecs.hpp"
#include "nodes/distributed/distributed_catalog.hpp"
#include "nodes/limits.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "files": [
        "STRING",
        {}
      ]
    }
  },
  "input_order": {
    "required": [
      "files"
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
  "name": "DistributedGatheredImages",
  "display_name": "Distributed Gathered Images",
  "description": "The images the units of a distributed job delivered, as one batch (master only).",
  "python_module": "comfydist",
  "category": "utils",
  "output_node": false,
  "has_intermediate_output": false
})json";

std::vector<std::string> file_names(const std::string& files) {
  json parsed;
  try {
    parsed = json::parse(files);
  } catch (const json::parse_error& ex) {
    throw engine::node_error(
        "ValueError",
        std::string("DistributedGatheredImages: files is not valid JSON (") + ex.what() + ")");
  }
  if (!parsed.is_array()) {
    throw engine::node_error("ValueError",
                             "DistributedGatheredImages: files must be a JSON array of names");
  }
  std::vector<std::string> names;
  for (const auto& entry : parsed) {
    if (!entry.is_string()) {
      throw engine::node_error(
          "ValueError",
          "DistributedGatheredImages: file names must be strings, not " + entry.dump());
    }
    names.push_back(entry.get<std::string>());
  }
  if (names.empty()) {
    // A batch of zero images has no size to give the collector's consumers.
    throw engine::node_error("ValueError", "DistributedGatheredImages: no images were gathered");
  }
  return names;
}

image::pixel_image decode_file(const fs::path& temp_dir, const std::string& name) {
  const std::optional<fs::path> path = confine_path(temp_dir, name);
  if (!path) {
    throw engine::node_error("ValueError", "Refusing to read gathered image '" + name +
                                               "': the name leaves the temp folder");
  }
  std::error_code ec;
  if (!fs::is_regular_file(*path, ec)) {
    throw engine::node_error("FileNotFoundError", "Gathered image not found: " + name);
  }
  try {
    return image::decode_image(read_file(*path)).image;
  } catch (const std::invalid_argument& ex) {
    throw engine::node_error("UnidentifiedImageError",
                             "cannot identify image file '" + name + "': " + ex.what());
  }
}

std::string size_text(const image::pixel_image& image) {
  return std::to_string(image.width) + "x" + std::to_string(image.height);
}

// Gray and alpha images become RGB as LoadImage makes them (alpha dropped).
void write_rgb(const image::pixel_image& pixels, float* out) {
  const bool gray = pixels.channels <= 2;
  const std::size_t count = static_cast<std::size_t>(pixels.width) * pixels.height;
  const auto channels = static_cast<std::size_t>(pixels.channels);
  for (std::size_t p = 0; p < count; ++p) {
    const std::uint8_t* px = pixels.pixels.data() + p * channels;
    for (std::size_t c = 0; c < 3; ++c) {
      out[p * 3 + c] = static_cast<float>(px[gray ? 0 : c]) / 255.0F;
    }
  }
}

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const std::vector<std::string> names = file_names(inputs.get_string("files"));
  const fs::path& temp_dir = context.environment().temp_dir;
  std::vector<image::pixel_image> decoded;
  decoded.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    context.check_interrupt();
    decoded.push_back(decode_file(temp_dir, names[i]));
    const image::pixel_image& first = decoded.front();
    if (i == 0) {
      // Refuse an oversized batch before decoding the rest of it.
      check_tensor_size(static_cast<std::int64_t>(names.size()), first.height, first.width, 3);
    }
    const image::pixel_image& last = decoded.back();
    if (last.width != first.width || last.height != first.height) {
      throw engine::node_error("RuntimeError", "DistributedGatheredImages: '" + names[i] + "' is " +
                                                   size_text(last) + " but '" + names.front() +
                                                   "' is " + size_text(first) +
                                                   "; gathered images must all have one size");
    }
  }
  const image::pixel_image& first = decoded.front();
  auto batch =
      allocate_image(static_cast<std::int64_t>(decoded.size()), first.height, first.width, 3);
  for (std::size_t i = 0; i < decoded.size(); ++i) {
    write_rgb(decoded[i], batch->image(static_cast<int>(i)));
  }
  return single_output(engine::image_ptr(std::move(batch)));
}

}  // namespace

engine::node_definition distributed_gathered_images_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
