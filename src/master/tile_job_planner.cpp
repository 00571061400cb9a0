// Planning of tiled jobs: finding the tiled upscale, the input step, the tile units and the
// master's prompt.
#include "master/tile_job_planner.hpp"

#include <cstdio>
#include <map>
#include <stdexcept>

#include "common/api_error.hpp"
#include "common/file_io.hpp"
#include "common/sha256.hpp"
#include "image/codecs.hpp"
#include "master/prompt_graph.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
namespace {

constexpr const char* kUpscaleClass = "ImageUpscaleWithModel";
constexpr const char* kTilesClass = "DistributedTiles";
// Tiles are sent as fast-to-write PNG: they are read once by a worker, compression buys little.
constexpr int kTilePngLevel = 1;

int int_setting(const json& object, const char* key, int fallback) {
  if (!object.contains(key) || object[key].is_null()) {
    return fallback;
  }
  if (!object[key].is_number_integer()) {
    throw api_error(400, "invalid_tiles", std::string("tiles.") + key + " must be an integer");
  }
  const auto value = object[key].get<std::int64_t>();
  if (value < -1000000 || value > 1000000) {
    throw api_error(400, "invalid_tiles", std::string("tiles.") + key + " is out of range");
  }
  return static_cast<int>(value);
}

image::feather_kind feather_of(const json& value) {
  if (value.is_string() && value.get<std::string>() == "linear") {
    return image::feather_kind::linear;
  }
  if (value.is_string() && value.get<std::string>() == "cosine") {
    return image::feather_kind::cosine;
  }
  throw api_error(400, "invalid_tiles", "tiles.feather must be \"linear\" or \"cosine\"");
}

// The settings alone (no image yet) must give a plan for an image of one tile: that is where
// plan_tiles checks the tile range and the overlap against the tile.
void check_settings(const tile_settings& settings) {
  if (settings.overlap < 0 || settings.overlap >= settings.tile) {
    throw api_error(400, "invalid_tiles",
                    "the overlap (" + std::to_string(settings.overlap) +
                        ") must be at least 0 and smaller than the tile (" +
                        std::to_string(settings.tile) + ")");
  }
  try {
    image::tile_options options;
    options.tile = settings.tile;
    options.overlap = settings.overlap;
    options.scale = 1;
    (void)image::plan_tiles(settings.tile, settings.tile, options);
  } catch (const std::invalid_argument& ex) {
    throw api_error(400, "invalid_tiles", ex.what());
  }
}

// A DistributedTiles node's settings, as literals (links into its widgets are not supported).
tile_settings settings_of_node(const std::string& id, const json& node) {
  const json inputs = node.value("inputs", json::object());
  tile_settings settings;
  for (const char* key : {"tile", "overlap", "feather"}) {
    if (inputs.contains(key) && is_link(inputs[key])) {
      throw api_error(400, "invalid_tiles",
                      "DistributedTiles '" + id + "': " + key + " must be a value, not a link");
    }
  }
  settings.tile = int_setting(inputs, "tile", settings.tile);
  settings.overlap = int_setting(inputs, "overlap", settings.overlap);
  if (inputs.contains("feather")) {
    settings.feather = feather_of(inputs["feather"]);
  }
  check_settings(settings);
  return settings;
}

json node_of(const std::string& type, json inputs) {
  json node = json::object();
  node["class_type"] = type;
  node["inputs"] = std::move(inputs);
  return node;
}

image::pixel_image as_rgb(const image::pixel_image& in) {
  if (in.channels == 3) {
    return in;
  }
  image::pixel_image out;
  out.width = in.width;
  out.height = in.height;
  out.channels = 3;
  out.pixels.resize(out.byte_size());
  const auto count = static_cast<std::size_t>(in.width) * static_cast<std::size_t>(in.height);
  const auto channels = static_cast<std::size_t>(in.channels);
  for (std::size_t p = 0; p < count; ++p) {
    for (std::size_t c = 0; c < 3; ++c) {
      out.pixels[p * 3 + c] = in.pixels[p * channels + (channels <= 2 ? 0 : c)];
    }
  }
  return out;
}

image::pixel_image crop(const image::pixel_image& rgb, const image::tile_rect& rect) {
  image::pixel_image out;
  out.width = rect.width;
  out.height = rect.height;
  out.channels = 3;
  out.pixels.resize(out.byte_size());
  const auto row_bytes = static_cast<std::size_t>(rect.width) * 3;
  for (int y = 0; y < rect.height; ++y) {
    const std::size_t from =
        (static_cast<std::size_t>(rect.y + y) * static_cast<std::size_t>(rgb.width) +
         static_cast<std::size_t>(rect.x)) *
        3;
    std::copy_n(
        rgb.pixels.begin() + static_cast<std::ptrdiff_t>(from), row_bytes,
        out.pixels.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(y) * row_bytes));
  }
  return out;
}

[[noreturn]] void throw_two_tiles_nodes(const std::string& upscale, const std::string& first,
                                        const std::string& second) {
  throw api_error(400, "invalid_tiles",
                  "ImageUpscaleWithModel '" + upscale +
                      "' is fed by more than one DistributedTiles node ('" + first + "', '" +
                      second + "')");
}

[[noreturn]] void throw_per_tile_leak(const json& prompt, const std::string& user,
                                      const std::string& source) {
  throw api_error(400, "invalid_tiles",
                  "node '" + user + "' (" + class_of(prompt[user]) +
                      ") uses the per-tile result of '" + source + "' (" +
                      class_of(prompt[source]) +
                      "); only the tiled ImageUpscaleWithModel's blended result can be used "
                      "outside the tiles");
}

}  // namespace

std::string to_string(image::feather_kind kind) {
  return kind == image::feather_kind::cosine ? "cosine" : "linear";
}

tile_settings parse_tile_settings(const json& value) {
  if (!value.is_object()) {
    throw api_error(400, "invalid_tiles",
                    "'tiles' must be an object like {\"tile\": 512, \"overlap\": 64}");
  }
  tile_settings settings;
  settings.tile = int_setting(value, "tile", settings.tile);
  settings.overlap = int_setting(value, "overlap", settings.overlap);
  if (value.contains("feather") && !value["feather"].is_null()) {
    settings.feather = feather_of(value["feather"]);
  }
  check_settings(settings);
  return settings;
}

std::optional<tile_request> find_tile_request(const json& prompt,
                                              const std::optional<tile_settings>& requested) {
  std::vector<std::string> upscales;
  std::vector<std::string> tiles_nodes;
  bool fan_out = false;
  for (const auto& [id, node] : prompt.items()) {
    const std::string type = class_of(node);
    if (type == kUpscaleClass) {
      upscales.push_back(id);
    } else if (type == kTilesClass) {
      tiles_nodes.push_back(id);
    } else if (type == "DistributedSeed" || type == "DistributedCollector") {
      fan_out = true;
    }
  }
  // upscale id → the DistributedTiles node upstream of it, if any.
  std::map<std::string, std::string> fed_by;
  for (const auto& upscale : upscales) {
    const std::set<std::string> upstream = ancestors_of(prompt, {upscale});
    for (const auto& tiles : tiles_nodes) {
      if (upstream.count(tiles) == 0) {
        continue;
      }
      if (fed_by.count(upscale) > 0) {
        throw_two_tiles_nodes(upscale, fed_by[upscale], tiles);
      }
      fed_by[upscale] = tiles;
    }
  }
  if (!requested && fed_by.empty()) {
    return std::nullopt;
  }
  if (requested && upscales.size() != 1) {
    throw api_error(400, "invalid_tiles",
                    upscales.empty() ? std::string("'tiles' needs an ImageUpscaleWithModel node "
                                                   "in the prompt; it has none")
                                     : "'tiles' applies to one ImageUpscaleWithModel; the prompt "
                                       "has " +
                                           std::to_string(upscales.size()));
  }
  if (!requested && fed_by.size() > 1) {
    throw api_error(400, "invalid_tiles",
                    "only one ImageUpscaleWithModel per job can be tiled; " +
                        std::to_string(fed_by.size()) + " are fed by DistributedTiles");
  }
  if (fan_out) {
    throw api_error(400, "invalid_tiles",
                    "a tiled upscale cannot be combined with DistributedSeed or "
                    "DistributedCollector in one job");
  }
  tile_request request;
  request.upscale_id = requested ? upscales.front() : fed_by.begin()->first;
  const json& upscale = prompt[request.upscale_id];
  const json inputs = upscale.value("inputs", json::object());
  if (!is_link(inputs.value("image", json())) || !is_link(inputs.value("upscale_model", json()))) {
    throw api_error(400, "invalid_tiles",
                    "ImageUpscaleWithModel '" + request.upscale_id +
                        "' needs its image and upscale_model linked to be tiled");
  }
  if (const auto fed = fed_by.find(request.upscale_id); fed != fed_by.end()) {
    request.tiles_node = fed->second;
    const json& tiles = prompt[request.tiles_node];
    const json tiles_inputs = tiles.value("inputs", json::object());
    if (!is_link(tiles_inputs.value("image", json()))) {
      throw api_error(400, "invalid_tiles",
                      "DistributedTiles '" + request.tiles_node + "' has no image");
    }
    request.image_link = tiles_inputs["image"];
    request.settings = requested ? *requested : settings_of_node(request.tiles_node, tiles);
    const std::set<std::string> after_tiles = descendants_of(prompt, {request.tiles_node});
    for (const auto& id : ancestors_of(prompt, {request.upscale_id})) {
      if (id != request.tiles_node && after_tiles.count(id) > 0) {
        request.per_tile.insert(id);
      }
    }
  } else {
    request.image_link = inputs["image"];
    request.settings = *requested;
    request.per_tile = {request.upscale_id};
  }
  // Only the upscale's result leaves the tile units: a per-tile image is a tile, and nothing
  // outside the units ever sees it.
  for (const auto& [id, node] : prompt.items()) {
    if (request.per_tile.count(id) > 0) {
      continue;
    }
    const json node_inputs = node.value("inputs", json::object());
    for (const auto& [name, value] : node_inputs.items()) {
      if (!is_link(value)) {
        continue;
      }
      const std::string source = value[0].get<std::string>();
      if (source != request.upscale_id && request.per_tile.count(source) > 0) {
        throw_per_tile_leak(prompt, id, source);
      }
    }
  }
  if (descendants_of(prompt, {request.upscale_id}).size() < 2) {
    throw api_error(400, "invalid_tiles",
                    "ImageUpscaleWithModel '" + request.upscale_id +
                        "' feeds no node: link it to a SaveImage or PreviewImage");
  }
  return request;
}

json tile_input_prompt(const json& prompt, const tile_request& request) {
  const std::string source = request.image_link[0].get<std::string>();
  json out = json::object();
  for (const auto& id : ancestors_of(prompt, {source})) {
    out[id] = prompt[id];
  }
  out[kTileInputNode] = node_of("PreviewImage", json::object({{"images", request.image_link}}));
  return out;
}

json tile_unit_prompt(const json& prompt, const tile_request& request,
                      const std::string& image_name) {
  std::set<std::string> ids;
  if (request.tiles_node.empty()) {
    const json model_link = prompt[request.upscale_id]["inputs"]["upscale_model"];
    ids = ancestors_of(prompt, {model_link[0].get<std::string>()});
    ids.insert(request.upscale_id);
  } else {
    ids = ancestors_of(prompt,
                       std::vector<std::string>(request.per_tile.begin(), request.per_tile.end()),
                       {request.tiles_node});
    ids.erase(request.tiles_node);
  }
  // Where the per-tile part read the whole image, it reads the tile.
  const std::string image_from =
      request.tiles_node.empty() ? request.image_link[0].get<std::string>() : request.tiles_node;
  json out = json::object();
  for (const auto& id : ids) {
    json node = prompt[id];
    if (request.per_tile.count(id) > 0 && node.contains("inputs")) {
      for (auto& [name, value] : node["inputs"].items()) {
        if (is_link(value) && value[0].get<std::string>() == image_from &&
            (name == "image" || !request.tiles_node.empty())) {
          value = json::array({kTileImageNode, 0});
        }
      }
    }
    out[id] = std::move(node);
  }
  out[kTileImageNode] = node_of("LoadImage", json::object({{"image", image_name}}));
  out[kTilePreviewNode] =
      node_of("PreviewImage", json::object({{"images", json::array({request.upscale_id, 0})}}));
  return out;
}

fs::path tile_input_dir(const fs::path& input_dir, const std::string& job_id) {
  return input_dir / "tiles" / job_id;
}

std::function<void(const std::string&, int, int)> tile_size_check(
    const json& spec, const std::shared_ptr<std::atomic<int>>& scale) {
  const int tw = spec.at("tile_width").get<int>();
  const int th = spec.at("tile_height").get<int>();
  return [tw, th, scale](const std::string& node_id, int width, int height) {
    if (node_id != kTilePreviewNode) {
      return;
    }
    const auto size = [](int w, int h) { return std::to_string(w) + "x" + std::to_string(h); };
    const int s = width / tw;
    if (width % tw != 0 || height % th != 0 || height / th != s || s < 1 || s > 16) {
      throw std::runtime_error("the worker returned a " + size(width, height) + " tile, not the " +
                               size(tw, th) + " tile scaled by a whole factor of 1 to 16");
    }
    int expected = 0;
    if (!scale->compare_exchange_strong(expected, s) && expected != s) {
      throw std::runtime_error("the worker returned a " + size(width, height) +
                               " tile; the job's tiles are " + size(tw * expected, th * expected) +
                               " (scale " + std::to_string(expected) + ")");
    }
  };
}

tiled_plan plan_tiled_job(const json& prompt, const tile_request& request,
                          const image::pixel_image& input, const fs::path& input_dir,
                          const std::string& job_id) {
  image::tile_options options;
  options.tile = request.settings.tile;
  options.overlap = request.settings.overlap;
  options.feather = request.settings.feather;
  options.scale = 1;  // the rectangles do not depend on it; the blender learns the real one
  image::tile_plan cut;
  try {
    cut = image::plan_tiles(input.width, input.height, options);
  } catch (const std::invalid_argument& ex) {
    throw api_error(400, "invalid_tiles", ex.what());
  }
  const image::pixel_image rgb = as_rgb(input);
  tiled_plan plan;
  const fs::path dir = tile_input_dir(input_dir, job_id);
  fs::create_directories(dir);
  for (const auto& rect : cut.tiles) {
    const std::string png = image::encode_png(crop(rgb, rect), kTilePngLevel);
    char index[16];
    std::snprintf(index, sizeof index, "%05d", rect.index);
    const std::string file = std::string(index) + "-" + sha256_hex(png).substr(0, 12) + ".png";
    write_file_atomic(dir / file, png);
    const std::string name = (fs::relative(dir, input_dir) / file).generic_string();
    unit_plan unit;
    unit.index = rect.index;
    unit.prompt = tile_unit_prompt(prompt, request, name);
    unit.collected_outputs = {kTilePreviewNode};
    plan.units.push_back(std::move(unit));
  }
  // The master runs what depends on the upscale and what those nodes need besides it; the
  // upscale itself becomes the blended image, its files filled in at assembly.
  const std::set<std::string> downstream = descendants_of(prompt, {request.upscale_id});
  const std::set<std::string> needed = ancestors_of(
      prompt, std::vector<std::string>(downstream.begin(), downstream.end()), {request.upscale_id});
  plan.master_prompt = json::object();
  for (const auto& [id, node] : prompt.items()) {
    if (needed.count(id) > 0) {
      plan.master_prompt[id] = node;
    }
  }
  plan.master_prompt[request.upscale_id] =
      node_of("DistributedGatheredImages", json::object({{"files", "[]"}}));
  json& spec = plan.spec;
  spec = json::object();
  spec["node"] = request.upscale_id;
  spec["tile"] = request.settings.tile;
  spec["overlap"] = request.settings.overlap;
  spec["feather"] = to_string(request.settings.feather);
  spec["input_width"] = input.width;
  spec["input_height"] = input.height;
  spec["tile_width"] = cut.tiles.front().width;
  spec["tile_height"] = cut.tiles.front().height;
  spec["scale"] = 0;  // the first tile that comes back tells the model's scale
  plan.master_prompt[request.upscale_id]["_meta"] =
      json::object({{"title", "tiled upscale (blended)"}, {"comfydist_tiles", spec}});
  return plan;
}

json tile_spec_of(const std::string& mode, const json& master_prompt,
                  const std::vector<std::string>& collector_ids) {
  if (mode != "tiles" || collector_ids.size() != 1 || !master_prompt.is_object()) {
    return nullptr;
  }
  const auto node = master_prompt.find(collector_ids.front());
  if (node == master_prompt.end() || !node->is_object() || !node->contains("_meta") ||
      !(*node)["_meta"].is_object()) {
    return nullptr;
  }
  return (*node)["_meta"].value("comfydist_tiles", json());
}

image::tile_plan tile_plan_of(const json& spec, int scale) {
  image::tile_options options;
  options.tile = spec.at("tile").get<int>();
  options.overlap = spec.at("overlap").get<int>();
  options.feather = spec.at("feather").get<std::string>() == "cosine" ? image::feather_kind::cosine
                                                                      : image::feather_kind::linear;
  options.scale = scale;
  return image::plan_tiles(spec.at("input_width").get<int>(), spec.at("input_height").get<int>(),
                           options);
}

}  // namespace comfydist::master
