// The blend step of a tiled job (docs/tiles.md): the upscaled tiles the units brought back, in
// plan order, joined by the feather blender into one image and streamed band by band into a PNG
// the master's prompt reads (or saves as it is). Spills tiles to temp/tiles/<job>/spill/ so the
// master's memory stays bounded, and picks up what a master that died mid-blend had already
// spilled.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace comfydist::master {

struct tile_blend_request {
  std::string job_id;
  json spec;  // tile_job_planner's spec; its "scale" may still be 0
  // The tile files under temp_dir (relative to it), in plan index order, one per tile.
  std::vector<std::string> tile_files;
  std::filesystem::path temp_dir;
  // The blended PNG's zlib level: 1 when the master's prompt reads it back (speed over size),
  // SaveImage's 4 when it is copied out as the saved file.
  int compress_level = 1;
};

struct tile_blend_result {
  std::string blended;  // the blended PNG, relative to temp_dir
  int width = 0;
  int height = 0;
  double seconds = 0;  // wall time of the blend, PNG included
};

// Throws std::runtime_error naming the tile when one is missing, unreadable or of another size
// than the plan says. `check_interrupt` is called between tiles and may throw to stop.
tile_blend_result blend_tiles(const tile_blend_request& request,
                              const std::function<void()>& check_interrupt);

// temp/tiles/<job>: the job's blend directory, removed when the job ends.
std::filesystem::path tile_job_dir(const std::filesystem::path& temp_dir,
                                   const std::string& job_id);

}  // namespace comfydist::master
