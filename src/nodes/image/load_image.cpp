// LoadImage: an image from input/ (or an annotated "name [output]" / "[temp]" / "[input]" path)
// as IMAGE [1,H,W,3] and MASK 1-alpha; every name is confined to its folder.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "common/file_io.hpp"
#include "common/safe_path.hpp"
#include "common/sha256.hpp"
#include "image/codecs.hpp"
#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "image": [
        [],
        {
          "image_upload": true
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "image"
    ]
  },
  "is_input_list": false,
  "output": [
    "IMAGE",
    "MASK"
  ],
  "output_is_list": [
    false,
    false
  ],
  "output_name": [
    "IMAGE",
    "MASK"
  ],
  "name": "LoadImage",
  "display_name": "Load Image",
  "description": "",
  "python_module": "nodes",
  "category": "image",
  "output_node": false,
  "has_intermediate_output": false,
  "search_aliases": [
    "load image",
    "open image",
    "import image",
    "image input",
    "upload image",
    "read image",
    "image loader"
  ],
  "essentials_category": "Basics"
})json";

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// folder_paths.get_annotated_filepath: the suffix and the one character before it (normally a
// space) are cut, as Python's name[:-9] does for "[output]".
std::optional<fs::path> annotated_path(std::string name, const engine::node_environment& env) {
  fs::path base = env.input_dir;
  for (const auto& [suffix, folder] :
       {std::pair<std::string_view, const fs::path*>{"[output]", &env.output_dir},
        {"[input]", &env.input_dir},
        {"[temp]", &env.temp_dir}}) {
    if (ends_with(name, suffix)) {
      name.resize(name.size() - suffix.size());
      while (!name.empty() && (static_cast<unsigned char>(name.back()) & 0xC0) == 0x80) {
        name.pop_back();
      }
      if (!name.empty()) {
        name.pop_back();
      }
      base = *folder;
      break;
    }
  }
  if (name.empty()) {
    return std::nullopt;
  }
  return confine_path(base, name);
}

bool is_readable_file(const std::optional<fs::path>& path) {
  std::error_code ec;
  return path && fs::is_regular_file(*path, ec);
}

fs::path existing_path(const std::string& name, const engine::node_environment& env) {
  const std::optional<fs::path> path = annotated_path(name, env);
  if (!path) {
    throw engine::node_error("ValueError", "Refusing to read image '" + name +
                                               "': the name leaves its folder or is not a "
                                               "valid relative path");
  }
  if (!is_readable_file(path)) {
    throw engine::node_error("FileNotFoundError", "Invalid image file: " + name);
  }
  return *path;
}

// Python's mimetypes map extensions case-insensitively; these are the image/* ones it knows,
// with .webp forced to image as ComfyUI does.
bool has_image_extension(const fs::path& path) {
  static constexpr std::string_view extensions[] = {
      ".png", ".jpg", ".jpeg", ".jpe",  ".gif",  ".bmp", ".webp", ".tif", ".tiff",
      ".ico", ".svg", ".avif", ".heic", ".heif", ".ief", ".ras",  ".pnm", ".pbm",
      ".pgm", ".ppm", ".rgb",  ".xbm",  ".xpm",  ".xwd", ".jxl",  ".jp2", ".psd"};
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(extensions), std::end(extensions), ext) != std::end(extensions);
}

void refresh_info(json& node_info, const engine::node_environment& env) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(env.input_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (has_image_extension(it->path()) && is_readable_file(confine_path(env.input_dir, name))) {
      files.push_back(name);
    }
  }
  std::sort(files.begin(), files.end());
  node_info["input"]["required"]["image"][0] = files;
}

std::optional<std::string> validate(const json& constants, const engine::node_environment& env) {
  const json& image = constants.contains("image") ? constants["image"] : json(nullptr);
  if (image.is_null()) {
    return std::nullopt;
  }
  if (!image.is_string()) {
    return "Invalid image file: " + image.dump();
  }
  const std::string& name = image.get_ref<const std::string&>();
  if (!is_readable_file(annotated_path(name, env))) {
    return "Invalid image file: " + name;
  }
  return std::nullopt;
}

std::string is_changed(const json& constants, const engine::node_environment& env) {
  const json& image = constants.contains("image") ? constants["image"] : json(nullptr);
  if (!image.is_string()) {
    throw engine::node_error("TypeError", "LoadImage needs a file name");
  }
  return sha256_hex(read_file(existing_path(image.get<std::string>(), env)));
}

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const std::string& name = inputs.get_string("image");
  const fs::path path = existing_path(name, context.environment());
  image::decoded_image decoded;
  try {
    decoded = image::decode_image(read_file(path));
  } catch (const std::invalid_argument& ex) {
    throw engine::node_error("UnidentifiedImageError",
                             "cannot identify image file '" + name + "': " + ex.what());
  }
  context.check_interrupt();
  const image::pixel_image& pixels = decoded.image;
  const int channels = pixels.channels;
  const bool alpha = decoded.has_alpha && (channels == 2 || channels == 4);
  const bool gray = channels <= 2;

  auto rgb = allocate_image(1, pixels.height, pixels.width, 3);
  auto mask = alpha ? allocate_mask(1, pixels.height, pixels.width) : allocate_mask(1, 64, 64);
  const std::size_t count = static_cast<std::size_t>(pixels.width) * pixels.height;
  for (std::size_t p = 0; p < count; ++p) {
    const std::uint8_t* px = pixels.pixels.data() + p * static_cast<std::size_t>(channels);
    for (int c = 0; c < 3; ++c) {
      rgb->data[p * 3 + c] = static_cast<float>(px[gray ? 0 : c]) / 255.0F;
    }
    if (alpha) {
      mask->data[p] = 1.0F - static_cast<float>(px[channels - 1]) / 255.0F;
    }
  }
  engine::node_result result;
  result.outputs.emplace_back(engine::image_ptr(std::move(rgb)));
  result.outputs.emplace_back(engine::mask_ptr(std::move(mask)));
  return result;
}

}  // namespace

engine::node_definition load_image_node() {
  engine::node_definition definition = make_definition(info, execute);
  definition.refresh_info = refresh_info;
  definition.validate_parameters = {"image"};
  definition.validate = validate;
  definition.is_changed = is_changed;
  return definition;
}

}  // namespace comfydist::nodes
