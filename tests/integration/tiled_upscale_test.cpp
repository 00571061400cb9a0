// Distributed tiled upscaling end to end (docs/tiles.md): a master and native workers on
// loopback, the bundled upscale models. One worker and three workers must give the same bytes;
// bad tile settings, images and models are refused before anything runs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "cluster_harness.hpp"
#include "common/file_io.hpp"
#include "image/codecs.hpp"

namespace comfydist::testing {
namespace {

constexpr const char* kModel = "esrgan-slim-x2";

cluster_options workers(int n) {
  cluster_options options;
  options.workers = n;
  return options;
}

// EmptyImage(96×80) → ImageAddNoise → [DistributedTiles] → ImageUpscaleWithModel → SaveImage.
json tiled_prompt(const std::string& model, bool tiles_node, int width = 96, int height = 80) {
  json p = json::object();
  p["1"] = {{"class_type", "EmptyImage"},
            {"inputs", {{"width", width}, {"height", height}, {"batch_size", 1}, {"color", 0}}}};
  p["2"] = {{"class_type", "ImageAddNoise"},
            {"inputs", {{"image", {"1", 0}}, {"seed", 7}, {"strength", 0.5}}}};
  p["3"] = {{"class_type", "UpscaleModelLoader"}, {"inputs", {{"model_name", model}}}};
  std::string source = "2";
  if (tiles_node) {
    p["4"] = {
        {"class_type", "DistributedTiles"},
        {"inputs", {{"image", {"2", 0}}, {"tile", 48}, {"overlap", 8}, {"feather", "linear"}}}};
    source = "4";
  }
  p["5"] = {{"class_type", "ImageUpscaleWithModel"},
            {"inputs", {{"upscale_model", {"3", 0}}, {"image", {source, 0}}}}};
  p["6"] = {{"class_type", "SaveImage"},
            {"inputs", {{"images", {"5", 0}}, {"filename_prefix", "tiled"}}}};
  return p;
}

json tiles_option() {
  return {{"tile", 48}, {"overlap", 8}, {"feather", "linear"}};
}

// The bundled models are installed by scripts/bootstrap; without them there is nothing to run.
bool cluster_has_model(master_process& master, const std::string& model) {
  const auto answer = master.request("GET", "/object_info/UpscaleModelLoader");
  if (answer.status != 200) {
    return false;
  }
  const json options =
      json::parse(answer.body)["UpscaleModelLoader"]["input"]["required"]["model_name"][1].value(
          "options", json::array());
  for (const auto& option : options) {
    if (option == model) {
      return true;
    }
  }
  return false;
}

image::pixel_image saved_image(master_process& master, const json& job) {
  EXPECT_TRUE(job["outputs"].contains("6")) << job.dump(2);
  return view_image(master.port(), job["outputs"]["6"]["images"][0]);
}

double psnr(const image::pixel_image& a, const image::pixel_image& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    const double d = static_cast<double>(a.pixels[i]) - static_cast<double>(b.pixels[i]);
    sum += d * d;
  }
  const double mse = sum / static_cast<double>(a.pixels.size());
  return mse == 0 ? INFINITY : 10.0 * std::log10(255.0 * 255.0 / mse);
}

TEST(TiledUpscale, OneWorkerAndThreeWorkersGiveTheSamePixels) {
  image::pixel_image one;
  {
    cluster c(workers(1));
    if (!cluster_has_model(c.master(), kModel)) {
      GTEST_SKIP() << "the bundled model " << kModel << " is not installed";
    }
    // Asked for by the DistributedTiles node.
    const std::string id = queue_job(c.master(), {{"prompt", tiled_prompt(kModel, true)}});
    const json job = wait_job(c.master(), id, std::chrono::seconds(180));
    ASSERT_EQ(job["state"], "done") << job.dump(2);
    ASSERT_EQ(job["mode"], "tiles");
    // 96×80 in 48-pixel tiles overlapping by at least 8: 3 columns, 2 rows.
    ASSERT_EQ(job["units"].size(), 6U);
    one = saved_image(c.master(), job);
  }
  ASSERT_EQ(one.width, 192);
  ASSERT_EQ(one.height, 160);

  cluster c(workers(3));
  // Asked for in the request body, on a prompt without the node.
  const std::string id =
      queue_job(c.master(), {{"prompt", tiled_prompt(kModel, false)}, {"tiles", tiles_option()}});
  const json job = wait_job(c.master(), id, std::chrono::seconds(180));
  ASSERT_EQ(job["state"], "done") << job.dump(2);
  ASSERT_EQ(job["units"].size(), 6U);
  std::set<std::string> workers;
  for (const auto& unit : job["units"]) {
    workers.insert(unit["worker_id"].get<std::string>());
  }
  EXPECT_GE(workers.size(), 2U) << "6 tiles should spread over the 3 workers";
  const image::pixel_image three = saved_image(c.master(), job);
  ASSERT_EQ(three.width, one.width);
  ASSERT_EQ(three.height, one.height);
  EXPECT_EQ(three.pixels, one.pixels) << "the number of workers changed the picture";
  // Saved straight from the blended file, with SaveImage's metadata.
  const json saved = job["outputs"]["6"]["images"][0];
  const auto file = c.master().request(
      "GET", "/view?type=output&filename=" + saved["filename"].get<std::string>());
  ASSERT_EQ(file.status, 200);
  const image::decoded_image decoded = image::decode_image(file.body);
  ASSERT_FALSE(decoded.text_chunks.empty());
  EXPECT_EQ(decoded.text_chunks[0].keyword, "prompt");
  // The prompt the client sent, as a single ComfyUI records it, not the master's rewritten part.
  EXPECT_NE(decoded.text_chunks[0].text.find("ImageUpscaleWithModel"), std::string::npos);
  EXPECT_EQ(decoded.text_chunks[0].text.find("DistributedSaveBlended"), std::string::npos);

  // Nodes after the upscale other than SaveImage run on the master's engine. (Its input step is
  // the one the tiled job above ran: the master must run it again, not answer from a cache.)
  json inverted = tiled_prompt(kModel, false);
  inverted["7"] = {{"class_type", "ImageInvert"}, {"inputs", {{"image", {"5", 0}}}}};
  inverted["6"]["inputs"]["images"] = {"7", 0};
  const json inv =
      wait_job(c.master(), queue_job(c.master(), {{"prompt", inverted}, {"tiles", tiles_option()}}),
               std::chrono::seconds(180));
  ASSERT_EQ(inv["state"], "done") << inv.dump(2);
  const image::pixel_image negative = saved_image(c.master(), inv);
  ASSERT_EQ(negative.pixels.size(), one.pixels.size());
  int worst = 0;
  for (std::size_t i = 0; i < one.pixels.size(); ++i) {
    worst = std::max(worst, std::abs(255 - one.pixels[i] - negative.pixels[i]));
  }
  EXPECT_LE(worst, 1) << "the inverted tiled upscale is not the negative of the saved one";
  const json inv_saved = inv["outputs"]["6"]["images"][0];
  const auto inv_file = c.master().request(
      "GET", "/view?type=output&filename=" + inv_saved["filename"].get<std::string>());
  ASSERT_EQ(inv_file.status, 200);
  const std::string inv_prompt = image::decode_image(inv_file.body).text_chunks.at(0).text;
  EXPECT_NE(inv_prompt.find("ImageInvert"), std::string::npos);
  EXPECT_EQ(inv_prompt.find("DistributedGatheredImages"), std::string::npos);

  // Against one untiled upscale of the same image (reported, not a guarantee of this test:
  // docs/tiles.md says where tiles and a whole-image pass may differ).
  const std::string whole = queue_job(c.master(), {{"prompt", tiled_prompt(kModel, false)}});
  const json single = wait_job(c.master(), whole, std::chrono::seconds(180));
  ASSERT_EQ(single["state"], "done") << single.dump(2);
  const image::pixel_image untiled = saved_image(c.master(), single);
  ASSERT_EQ(untiled.pixels.size(), one.pixels.size());
  const double db = psnr(one, untiled);
  RecordProperty("psnr_vs_untiled_db", std::to_string(db));
  std::printf("tiled vs untiled PSNR: %.2f dB\n", db);
  EXPECT_GT(db, 20.0);
}

TEST(TiledUpscale, BadTileSettingsImagesAndModelsAreRefused) {
  cluster c(workers(1));
  const auto refused = [&](const json& body, const std::string& says) {
    const auto answer = c.master().request_json("POST", "/distributed/queue", body);
    EXPECT_EQ(answer.status, 400) << answer.body;
    EXPECT_NE(answer.body.find(says), std::string::npos) << answer.body;
  };
  const json prompt = tiled_prompt(kModel, false);
  refused({{"prompt", prompt}, {"tiles", {{"tile", 48}, {"overlap", 30}}}}, "twice");
  refused({{"prompt", prompt}, {"tiles", {{"tile", 48}, {"overlap", 48}}}}, "overlap");
  refused({{"prompt", prompt}, {"tiles", {{"tile", 48}, {"feather", "gauss"}}}}, "feather");
  refused({{"prompt", prompt}, {"tiles", "big"}}, "tiles");
  // No upscale node to tile.
  json no_upscale = prompt;
  no_upscale.erase("5");
  no_upscale["6"]["inputs"]["images"] = {"2", 0};
  no_upscale.erase("3");
  refused({{"prompt", no_upscale}, {"tiles", tiles_option()}}, "ImageUpscaleWithModel");
  // A model no worker has: named in the answer.
  refused({{"prompt", tiled_prompt("no-such-model-x3", false)}, {"tiles", tiles_option()}},
          "no-such-model-x3");
  if (!cluster_has_model(c.master(), kModel)) {
    GTEST_SKIP() << "the bundled model " << kModel << " is not installed";
  }
  // A 1×1 image cannot be cut (found by the master's input step, before any unit exists).
  refused({{"prompt", tiled_prompt(kModel, true, 1, 1)}}, "2 pixels");
  const json jobs = json::parse(c.master().request("GET", "/distributed/jobs").body);
  EXPECT_EQ(jobs["jobs"].size(), 0U) << "a refused job must not be stored";
}

// The master has no DebugDelay: a DebugDelay before DistributedTiles makes the input step a
// worker's (as a sampler would), and one after it runs on every tile. Neither changes the
// picture, so it must equal the plain tiled job's, bit for bit.
TEST(TiledUpscale, InputStepOnAWorkerAndPerTileNodesGiveTheSamePixels) {
  using namespace std::chrono_literals;
  cluster c(workers(2));
  if (!cluster_has_model(c.master(), kModel)) {
    GTEST_SKIP() << "the bundled model " << kModel << " is not installed";
  }
  const json plain =
      wait_job(c.master(), queue_job(c.master(), {{"prompt", tiled_prompt(kModel, true)}}), 180s);
  ASSERT_EQ(plain["state"], "done") << plain.dump(2);
  json prompt = tiled_prompt(kModel, true);
  prompt["10"] = {{"class_type", "DebugDelay"},
                  {"inputs", {{"images", {"2", 0}}, {"milliseconds", 30}, {"seed", 0}}}};
  prompt["4"]["inputs"]["image"] = {"10", 0};
  prompt["11"] = {{"class_type", "DebugDelay"},
                  {"inputs", {{"images", {"4", 0}}, {"milliseconds", 30}, {"seed", 0}}}};
  prompt["5"]["inputs"]["image"] = {"11", 0};
  const json job = wait_job(c.master(), queue_job(c.master(), {{"prompt", prompt}}), 180s);
  ASSERT_EQ(job["state"], "done") << job.dump(2);
  EXPECT_EQ(job["mode"], "tiles");
  EXPECT_EQ(job["units"].size(), plain["units"].size());
  EXPECT_EQ(saved_image(c.master(), job).pixels, saved_image(c.master(), plain).pixels);
  // The workers' histories: one ran the input step, and the tile units carried the DebugDelay.
  int input_steps = 0;
  int delayed_tiles = 0;
  for (std::size_t w = 0; w < c.size(); ++w) {
    const json history = json::parse(c.worker(w).request("GET", "/history").body);
    for (const auto& [id, entry] : history.items()) {
      const json& ran = entry["prompt"][2];
      input_steps += ran.contains("tiles.input") && ran.contains("10") ? 1 : 0;
      delayed_tiles += ran.contains("tiles.image") && ran.contains("11") &&
                               ran["11"]["inputs"]["images"][0] == "tiles.image"
                           ? 1
                           : 0;
    }
  }
  EXPECT_EQ(input_steps, 1);
  EXPECT_EQ(delayed_tiles, static_cast<int>(job["units"].size()));

  // A per-tile image used outside the tiles is refused, naming the nodes.
  json leaking = prompt;
  leaking["12"] = {{"class_type", "PreviewImage"}, {"inputs", {{"images", {"11", 0}}}}};
  const auto refused = c.master().request_json("POST", "/distributed/queue", {{"prompt", leaking}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("per-tile result of '11'"), std::string::npos) << refused.body;
}

// The input step needs DebugDelay; the job may only use the worker without test nodes.
TEST(TiledUpscale, InputStepNoAllowedWorkerCanRunIsRefusedNamingTheNode) {
  cluster_options options = workers(2);
  options.worker_args = {{}, {"--enable-test-nodes"}};
  cluster c(options);
  if (!cluster_has_model(c.master(), kModel)) {
    GTEST_SKIP() << "the bundled model " << kModel << " is not installed";
  }
  json prompt = tiled_prompt(kModel, true);
  prompt["10"] = {{"class_type", "DebugDelay"},
                  {"inputs", {{"images", {"2", 0}}, {"milliseconds", 1}, {"seed", 0}}}};
  prompt["4"]["inputs"]["image"] = {"10", 0};
  const auto answer = c.master().request_json("POST", "/distributed/queue",
                                              {{"prompt", prompt}, {"workers", {c.worker_id(0)}}});
  EXPECT_EQ(answer.status, 400) << answer.body;
  EXPECT_NE(answer.body.find("tile_input_failed"), std::string::npos) << answer.body;
  EXPECT_NE(answer.body.find("DebugDelay"), std::string::npos) << answer.body;
}

// Two workers offering one model name with different scales (the compact x2 and x4 fixtures):
// tiles from the worker that disagrees with the first tile back fail and go to the other one.
TEST(TiledUpscale, TileOfTheWrongSizeFailsItsUnitWhichIsRetriedElsewhere) {
  namespace fs = std::filesystem;
  cluster c(workers(2));
  const fs::path fixtures = fs::path(COMFYDIST_SOURCE_DIR) / "tests/fixtures/upscale";
  const char* models[] = {"compact_x2.safetensors", "compact_x4.safetensors"};
  for (std::size_t i = 0; i < 2; ++i) {
    fs::copy_file(fixtures / models[i], c.worker(i).data_dir() / "data" / "models" /
                                            "upscale_models" / "same.safetensors");
  }
  const std::string id = queue_job(
      c.master(), {{"prompt", tiled_prompt("same.safetensors", false)}, {"tiles", tiles_option()}});
  const json job = wait_job(c.master(), id, std::chrono::seconds(180));
  ASSERT_EQ(job["state"], "done") << job.dump(2);
  int wrong_size = 0;
  std::set<std::string> finished_on;
  for (const auto& unit : job["units"]) {
    finished_on.insert(unit["worker_id"].get<std::string>());
    for (const auto& error : unit["errors"]) {
      wrong_size +=
          error["message"].get<std::string>().find("the job's tiles are") != std::string::npos ? 1
                                                                                               : 0;
    }
  }
  EXPECT_GE(wrong_size, 1) << job.dump(2);
  EXPECT_EQ(finished_on.size(), 1U) << "every tile must come from the worker of the first scale";
  const image::pixel_image out = saved_image(c.master(), job);
  EXPECT_TRUE(out.width == 192 || out.width == 384) << out.width;
  EXPECT_EQ(out.width * 80, out.height * 96);
}

// A master killed mid-job finishes it from the tiles already stored, with the same pixels.
TEST(TiledUpscale, MasterKilledMidJobFinishesFromTheStoredTiles) {
  using namespace std::chrono_literals;
  cluster c(workers(1));
  if (!cluster_has_model(c.master(), kModel)) {
    GTEST_SKIP() << "the bundled model " << kModel << " is not installed";
  }
  const json body = {{"prompt", tiled_prompt(kModel, false, 256, 224)}, {"tiles", tiles_option()}};
  const std::string id = queue_job(c.master(), body);
  const json started = wait_job_until(
      c.master(), id,
      [](const json& job) {
        int done = 0;
        for (const auto& u : job["units"]) {
          done += u["state"] == "done" ? 1 : 0;
        }
        return done >= 2 && done + 4 < static_cast<int>(job["units"].size());
      },
      120s, "some tiles done");
  c.master().kill9();
  c.restart_master();
  const json job = wait_job(c.master(), id, 300s);
  ASSERT_EQ(job["state"], "done") << job.dump(2);
  const image::pixel_image resumed = saved_image(c.master(), job);
  // The same job again, uninterrupted.
  const json again = wait_job(c.master(), queue_job(c.master(), body), 300s);
  ASSERT_EQ(again["state"], "done") << again.dump(2);
  const image::pixel_image whole = saved_image(c.master(), again);
  EXPECT_EQ(resumed.width, 512);
  EXPECT_EQ(resumed.pixels, whole.pixels);
}

TEST(TiledUpscale, UpscaleCommandSavesTheBlendedImage) {
  namespace fs = std::filesystem;
  using namespace std::chrono_literals;
  cluster c(workers(2));
  if (!cluster_has_model(c.master(), kModel)) {
    GTEST_SKIP() << "the bundled model " << kModel << " is not installed";
  }
  const fs::path dir = c.master().data_dir() / "cli-upscale";
  fs::create_directories(dir);
  image::pixel_image input;
  input.width = 70;
  input.height = 50;
  input.channels = 3;
  input.pixels.resize(input.byte_size());
  for (std::size_t i = 0; i < input.pixels.size(); ++i) {
    input.pixels[i] = static_cast<std::uint8_t>((i * 37) % 251);
  }
  write_file_atomic(dir / "photo.png", image::encode_png(input, 6));
  const std::string url = "http://127.0.0.1:" + std::to_string(c.master().port());
  const auto result =
      run_comfydist({"upscale", (dir / "photo.png").string(), "--model", kModel, "--tile", "32",
                     "--overlap", "4", "--out", (dir / "big.png").string(), "--master", url},
                    180s);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const image::pixel_image big = image::decode_image(read_file(dir / "big.png")).image;
  EXPECT_EQ(big.width, 140);
  EXPECT_EQ(big.height, 100);
  // It went through the tiled mode.
  const json jobs = json::parse(c.master().request("GET", "/distributed/jobs").body);
  ASSERT_EQ(jobs["jobs"].size(), 1U);
  EXPECT_EQ(jobs["jobs"][0]["mode"], "tiles");
  // An unknown model: refused before anything runs, named, exit 2.
  const auto refused = run_comfydist(
      {"upscale", (dir / "photo.png").string(), "--model", "no-such-model-x3", "--master", url},
      60s);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("no-such-model-x3"), std::string::npos) << refused.output;
}

}  // namespace
}  // namespace comfydist::testing
