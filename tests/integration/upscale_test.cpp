// Upscaling through the real worker: a model dropped into models/upscale_models appears in
// object_info, LoadImage → UpscaleModelLoader → ImageUpscaleWithModel → SaveImage gives an image
// of the model's scale with progress on the WebSocket, large inputs are tiled, and the loaded
// model is reused by the next prompt.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/file_io.hpp"
#include "common/uuid.hpp"
#include "image/codecs.hpp"
#include "worker_process.hpp"

namespace comfydist::testing {
namespace {

namespace fs = std::filesystem;

const fs::path fixtures = fs::path(COMFYDIST_SOURCE_DIR) / "tests/fixtures/upscale";

json upscale_prompt(const std::string& image, const std::string& model) {
  return json::parse(R"({
    "1": {"class_type": "LoadImage", "inputs": {"image": ")" +
                     image + R"("}},
    "2": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": ")" +
                     model + R"("}},
    "3": {"class_type": "ImageUpscaleWithModel",
          "inputs": {"upscale_model": ["2", 0], "image": ["1", 0]}},
    "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "up"}}})");
}

class UpscaleFlow : public ::testing::Test {
 protected:
  UpscaleFlow() {
    const fs::path data = worker_.data_dir() / "data";
    fs::copy_file(fixtures / "compact_x2.safetensors",
                  data / "models" / "upscale_models" / "compact_x2.safetensors");
    input_dir_ = data / "input";
    output_dir_ = data / "output";
  }

  void add_input(const std::string& name, int width, int height) {
    std::ofstream(input_dir_ / name, std::ios::binary) << make_png(width, height, 3, 120);
  }

  // Queues the prompt and returns the messages until it is done.
  std::vector<json> run_prompt(const json& prompt, const std::string& client, ws_listener& ws) {
    json body = json::object();
    body["prompt"] = prompt;
    body["client_id"] = client;
    const auto response = worker_.post_json("/prompt", body);
    EXPECT_EQ(response.status, 200) << response.body;
    const std::string prompt_id = json::parse(response.body).at("prompt_id");
    return ws.until_done(prompt_id, std::chrono::seconds(120));
  }

  image::pixel_image output_png(const std::vector<json>& messages) {
    const auto executed = std::find_if(messages.begin(), messages.end(),
                                       [](const json& m) { return m["type"] == "executed"; });
    if (executed == messages.end()) {
      ADD_FAILURE() << "no executed message";
      return {};
    }
    const std::string name = (*executed)["data"]["output"]["images"][0]["filename"];
    return image::decode_image(read_file(output_dir_ / name)).image;
  }

  worker_process worker_;
  fs::path input_dir_;
  fs::path output_dir_;
};

std::vector<json> progress_of(const std::vector<json>& messages, const std::string& node) {
  std::vector<json> found;
  for (const json& m : messages) {
    if (m["type"] == "progress" && m["data"]["node"] == node) {
      found.push_back(m["data"]);
    }
  }
  return found;
}

TEST_F(UpscaleFlow, ObjectInfoListsTheModel) {
  const json info = json::parse(worker_.get("/object_info/UpscaleModelLoader").body);
  const json options = info["UpscaleModelLoader"]["input"]["required"]["model_name"][1]["options"];
  // The dropped-in file, then the bundled models (installed by scripts/bootstrap) by name.
  ASSERT_FALSE(options.empty());
  EXPECT_EQ(options[0], "compact_x2.safetensors");
  for (const char* bundled : {"default-model-x2", "esrgan-slim-x2", "esrgan-thick-x4"}) {
    EXPECT_NE(std::find(options.begin(), options.end(), bundled), options.end()) << bundled;
  }
  EXPECT_EQ(json::parse(worker_.get("/models/upscale_models").body), options);
}

TEST_F(UpscaleFlow, UpscalesWithProgressAndReusesTheModel) {
  add_input("small.png", 40, 30);
  add_input("other.png", 20, 10);
  const std::string client = make_uuid4();
  ws_listener ws(worker_.port(), client);
  ws.until("status", std::nullopt);

  const auto first = run_prompt(upscale_prompt("small.png", "compact_x2.safetensors"), client, ws);
  const image::pixel_image out = output_png(first);
  EXPECT_EQ(out.width, 80);
  EXPECT_EQ(out.height, 60);
  const auto progress = progress_of(first, "3");
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back()["value"], 1);
  EXPECT_EQ(progress.back()["max"], 1);

  // The loader's output is cached: the second prompt only re-runs the image nodes.
  const auto second = run_prompt(upscale_prompt("other.png", "compact_x2.safetensors"), client, ws);
  EXPECT_EQ(output_png(second).width, 40);
  const auto cached = std::find_if(second.begin(), second.end(),
                                   [](const json& m) { return m["type"] == "execution_cached"; });
  ASSERT_NE(cached, second.end());
  const json nodes = (*cached)["data"]["nodes"];
  EXPECT_NE(std::find(nodes.begin(), nodes.end(), "2"), nodes.end()) << nodes.dump();
}

TEST_F(UpscaleFlow, LargeInputIsTiled) {
  add_input("large.png", 600, 600);
  const std::string client = make_uuid4();
  ws_listener ws(worker_.port(), client);
  ws.until("status", std::nullopt);
  const auto messages =
      run_prompt(upscale_prompt("large.png", "compact_x2.safetensors"), client, ws);
  const image::pixel_image out = output_png(messages);
  EXPECT_EQ(out.width, 1200);
  EXPECT_EQ(out.height, 1200);
  // Four tiles of 512 with overlap 32; the first and last updates always go out.
  const auto progress = progress_of(messages, "3");
  ASSERT_GE(progress.size(), 2U);
  EXPECT_EQ(progress.front()["value"], 1);
  EXPECT_EQ(progress.front()["max"], 4);
  EXPECT_EQ(progress.back()["value"], 4);
}

TEST_F(UpscaleFlow, UnknownModelIsAValidationError) {
  add_input("small.png", 4, 4);
  json body = json::object();
  body["prompt"] = upscale_prompt("small.png", "missing.pth");
  const auto response = worker_.post_json("/prompt", body);
  EXPECT_EQ(response.status, 400);
  const json reply = json::parse(response.body);
  EXPECT_EQ(reply["node_errors"]["2"]["errors"][0]["type"], "value_not_in_list") << reply.dump();
}

}  // namespace
}  // namespace comfydist::testing
