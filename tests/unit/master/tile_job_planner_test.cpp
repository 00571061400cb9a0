// The tiled planner's reading of a prompt: which upscale is tiled, what every tile unit runs, and
// which graphs it refuses.
#include <gtest/gtest.h>

#include "common/api_error.hpp"
#include "master/tile_job_planner.hpp"

namespace comfydist::master {
namespace {

// LoadImage → DistributedTiles → DebugDelay → ImageUpscaleWithModel ← UpscaleModelLoader → Save.
const json kPerTile = json::parse(R"({
  "1": {"class_type": "LoadImage", "inputs": {"image": "big.png"}},
  "2": {"class_type": "DistributedTiles", "inputs": {"image": ["1", 0], "tile": 64, "overlap": 8, "feather": "cosine"}},
  "3": {"class_type": "DebugDelay", "inputs": {"images": ["2", 0], "milliseconds": 500, "seed": 0}},
  "4": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "esrgan-slim-x2"}},
  "5": {"class_type": "ImageUpscaleWithModel", "inputs": {"upscale_model": ["4", 0], "image": ["3", 0]}},
  "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "big"}}
})");

int status_of(const json& prompt, const std::optional<tile_settings>& requested = std::nullopt) {
  try {
    (void)find_tile_request(prompt, requested);
  } catch (const api_error& ex) {
    return ex.status();
  }
  return 200;
}

TEST(TileJobPlanner, NodesBetweenDistributedTilesAndTheUpscaleRunOnEveryTile) {
  const auto request = find_tile_request(kPerTile, std::nullopt);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->upscale_id, "5");
  EXPECT_EQ(request->tiles_node, "2");
  EXPECT_EQ(request->per_tile, (std::set<std::string>{"3", "5"}));
  EXPECT_EQ(request->image_link, json::parse(R"(["1", 0])"));
  EXPECT_EQ(request->settings.tile, 64);
  EXPECT_EQ(request->settings.overlap, 8);
  EXPECT_EQ(request->settings.feather, image::feather_kind::cosine);

  const json unit = tile_unit_prompt(kPerTile, *request, "tiles/j/00000.png");
  EXPECT_FALSE(unit.contains("1"));  // the whole image stays on the master
  EXPECT_FALSE(unit.contains("2"));
  EXPECT_FALSE(unit.contains("6"));
  EXPECT_EQ(unit["3"]["inputs"]["images"],
            json::parse(std::string("[\"") + kTileImageNode + "\", 0]"));
  EXPECT_EQ(unit["3"]["inputs"]["milliseconds"], 500);
  EXPECT_EQ(unit["5"]["inputs"]["image"], json::parse(R"(["3", 0])"));
  EXPECT_EQ(unit["4"], kPerTile["4"]);
  EXPECT_EQ(unit[kTileImageNode]["inputs"]["image"], "tiles/j/00000.png");
  EXPECT_EQ(unit[kTilePreviewNode]["inputs"]["images"], json::parse(R"(["5", 0])"));

  const json input = tile_input_prompt(kPerTile, *request);
  EXPECT_TRUE(input.contains("1"));
  EXPECT_FALSE(input.contains("3"));
  EXPECT_EQ(input[kTileInputNode]["inputs"]["images"], json::parse(R"(["1", 0])"));
}

TEST(TileJobPlanner, TilesFromTheBodyTileTheOneUpscaleAlone) {
  json prompt = kPerTile;
  prompt.erase("2");
  prompt["3"]["inputs"]["images"] = json::array({"1", 0});
  tile_settings settings;
  settings.tile = 128;
  settings.overlap = 16;
  const auto request = find_tile_request(prompt, settings);
  ASSERT_TRUE(request);
  EXPECT_TRUE(request->tiles_node.empty());
  EXPECT_EQ(request->per_tile, (std::set<std::string>{"5"}));
  EXPECT_EQ(request->image_link, json::parse(R"(["3", 0])"));
  const json unit = tile_unit_prompt(prompt, *request, "t.png");
  EXPECT_FALSE(unit.contains("3"));  // upstream of the upscale: the master's input step
  EXPECT_EQ(unit["5"]["inputs"]["image"],
            json::parse(std::string("[\"") + kTileImageNode + "\", 0]"));
  // Without the option and without the node nothing is tiled.
  EXPECT_FALSE(find_tile_request(prompt, std::nullopt));
}

TEST(TileJobPlanner, PerTileResultsUsedOutsideTheTilesAreRefused) {
  json prompt = kPerTile;
  prompt["7"] = json::parse(R"({"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}})");
  EXPECT_EQ(status_of(prompt), 400);
  // The blended result and the untiled image may be used anywhere.
  prompt["7"]["inputs"]["images"] = json::array({"2", 0});
  EXPECT_EQ(status_of(prompt), 200);
}

TEST(TileJobPlanner, AmbiguousOrIncompleteTilingIsRefused) {
  json two_tiles = kPerTile;
  two_tiles["8"] = json::parse(
      R"({"class_type": "DistributedTiles", "inputs": {"image": ["3", 0], "tile": 64, "overlap": 8}})");
  two_tiles["5"]["inputs"]["image"] = json::array({"8", 0});
  EXPECT_EQ(status_of(two_tiles), 400);

  json no_output = kPerTile;
  no_output.erase("6");
  EXPECT_EQ(status_of(no_output), 400);

  json fan_out = kPerTile;
  fan_out["9"] = json::parse(R"({"class_type": "DistributedSeed", "inputs": {"seed": 1}})");
  EXPECT_EQ(status_of(fan_out), 400);

  json bad_overlap = kPerTile;
  bad_overlap["2"]["inputs"]["overlap"] = 64;
  EXPECT_EQ(status_of(bad_overlap), 400);

  json no_upscale = kPerTile;
  no_upscale.erase("5");
  no_upscale["6"]["inputs"]["images"] = json::array({"3", 0});
  EXPECT_EQ(status_of(no_upscale, tile_settings{}), 400);
}

}  // namespace
}  // namespace comfydist::master
