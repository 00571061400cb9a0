// The planner of tiled jobs (design.md §3, mode `tiles`): an ImageUpscaleWithModel whose tiling
// was asked for (a DistributedTiles node feeding its image, or `tiles` in POST
// /distributed/queue) becomes an input step the master runs itself, one unit per tile
// (LoadImage(tile) → the model's loader → ImageUpscaleWithModel → PreviewImage), and a master
// prompt where the upscale node's place is taken by the blended image. plan_job keeps the other
// modes; the scheduler calls this one when find_tile_request says the job is tiled.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "image/pixel_image.hpp"
#include "image/tile_plan.hpp"
#include "master/job_planner.hpp"

namespace comfydist::master {

struct tile_settings {
  int tile = 512;
  int overlap = 64;
  image::feather_kind feather = image::feather_kind::linear;
};

// POST /distributed/queue's {"tile": 512, "overlap": 64, "feather": "linear"} (each optional).
// Throws api_error(400) for wrong types and settings no image can take (overlap ≥ tile, tile
// smaller than twice the overlap, tile outside 8…4096).
tile_settings parse_tile_settings(const json& value);

struct tile_request {
  std::string upscale_id;  // the tiled ImageUpscaleWithModel
  json image_link;         // the image to cut (a DistributedTiles node's own input, not the node)
  tile_settings settings;
  // The DistributedTiles node, if the prompt has one, and the per-tile part of the graph: the
  // nodes between it and the upscale (the upscale included), which every tile unit runs on its
  // tile. Without the node the per-tile part is the upscale alone.
  std::string tiles_node;
  std::set<std::string> per_tile;
};

// The tiled upscale of `prompt`, if any: with `requested` (from the request body) the prompt's
// one ImageUpscaleWithModel, otherwise the one whose image comes from a DistributedTiles node,
// directly or through other per-tile nodes (DistributedTiles → X → ImageUpscaleWithModel).
// Throws api_error(400) when the body asks for tiles but there is no upscale node or several,
// for more than one DistributedTiles-fed upscale, for tiles mixed with fan-out nodes, when the
// upscale node feeds no output, and when a per-tile node's result is used outside the tile units
// or a per-tile node also reads the untiled image.
std::optional<tile_request> find_tile_request(const json& prompt,
                                              const std::optional<tile_settings>& requested);

// The node ids the tiled prompts add.
inline constexpr const char* kTileInputNode = "tiles.input";      // input step's PreviewImage
inline constexpr const char* kTileImageNode = "tiles.image";      // a unit's LoadImage
inline constexpr const char* kTilePreviewNode = "tiles.preview";  // a unit's PreviewImage

// The input step the master runs on its own engine: everything upstream of the tiled image,
// ending in a PreviewImage (kTileInputNode) so the image lands in the master's temp folder.
json tile_input_prompt(const json& prompt, const tile_request& request);

// One tile's unit: LoadImage(image_name) → the per-tile nodes (keeping their ids, with what they
// need besides the tile, e.g. the model's loader) → PreviewImage (kTilePreviewNode, collected).
json tile_unit_prompt(const json& prompt, const tile_request& request,
                      const std::string& image_name);

struct tiled_plan {
  std::vector<unit_plan> units;  // unit i upscales tile i of the plan
  // The upscale node is a DistributedGatheredImages placeholder whose "_meta" carries the spec,
  // so the job store keeps it with the job (tile_spec_of).
  json master_prompt;
  json spec;  // settings, input size, tile size; "scale" 0 until a tile comes back
};

// Cuts `input` into tiles, writes each as PNG under tile_input_dir(input_dir, job_id) (the unit
// runner sends them under content-hash names), and plans the units and the master prompt.
// Throws api_error(400) when the image cannot be tiled (a side under 2 pixels, too large).
tiled_plan plan_tiled_job(const json& prompt, const tile_request& request,
                          const image::pixel_image& input, const std::filesystem::path& input_dir,
                          const std::string& job_id);

// input/tiles/<job>: the job's cut tiles, removed when the job is done.
std::filesystem::path tile_input_dir(const std::filesystem::path& input_dir,
                                     const std::string& job_id);

// The unit runner's check of an image a tile unit returned: the plan's tile size times the
// model's scale. The first tile back sets `scale` for the whole job (shared by its units), so a
// worker whose model scales differently fails its tiles. Throws std::runtime_error naming sizes.
std::function<void(const std::string& node_id, int width, int height)> tile_size_check(
    const json& spec, const std::shared_ptr<std::atomic<int>>& scale);

// The spec of a tiled job (mode "tiles"), stored in its master prompt; null for other jobs.
json tile_spec_of(const std::string& mode, const json& master_prompt,
                  const std::vector<std::string>& collector_ids);

// The blender's plan for a stored spec, once the model's scale is known.
image::tile_plan tile_plan_of(const json& spec, int scale);

std::string to_string(image::feather_kind kind);

}  // namespace comfydist::master
