// UpscaleModelLoader: the model list (loadable files and bundled models by name), errors for
// missing, escaping and corrupt files, and real fixture models end to end through
// ImageUpscaleWithModel, tiled and untiled.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "common/file_io.hpp"
#include "node_test_util.hpp"
#include "nodes/upscale/upscale_model.hpp"

namespace comfydist::nodes::test {
namespace {

const fs::path fixtures = fs::path(COMFYDIST_SOURCE_DIR) / "tests/fixtures/upscale";
const fs::path bundled_root = fs::path(COMFYDIST_SOURCE_DIR) / "third_party/upscalerjs";

class UpscaleModelLoader : public ::testing::Test {
 protected:
  UpscaleModelLoader() {
    models_ = folders_.root() / "models" / "upscale_models";
    fs::create_directories(models_);
    context_.env = folders_.environment();
    context_.env.model_folders["upscale_models"] = {models_};
  }

  void add_fixture(const std::string& name, const std::string& as = "") {
    const fs::path target = models_ / (as.empty() ? name : as);
    fs::create_directories(target.parent_path());
    fs::copy_file(fixtures / name, target);
  }
  void write(const fs::path& relative, const std::string& text) {
    fs::create_directories((models_ / relative).parent_path());
    std::ofstream(models_ / relative) << text;
  }

  json options() {
    json info = definition("UpscaleModelLoader").info;
    definition("UpscaleModelLoader").refresh_info(info, context_.env);
    return info["input"]["required"]["model_name"][1]["options"];
  }

  engine::node_result load(const std::string& name) {
    engine::node_inputs inputs;
    inputs.values = {{"model_name", name}};
    return run("UpscaleModelLoader", inputs, context_);
  }

  std::pair<std::string, std::string> load_error(const std::string& name) {
    try {
      load(name);
    } catch (const engine::node_error& error) {
      return {error.exception_type(), error.what()};
    }
    return {"no error", ""};
  }

  temp_folders folders_;
  fs::path models_;
  test_context context_;
};

std::vector<float> read_floats(const fs::path& path) {
  const std::string bytes = read_file(path);
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

// NCHW (n = 1) values as a B=1 IMAGE.
engine::image_ptr planar_to_image(const std::vector<float>& values, int c, int h, int w) {
  return make_image(1, h, w, c, [&](int, int y, int x, int ci) {
    return values[(static_cast<std::size_t>(ci) * h + y) * w + x];
  });
}

TEST_F(UpscaleModelLoader, ListsLoadableFilesSorted) {
  add_fixture("compact_x2.safetensors");
  add_fixture("compact_x2.pth", "b/compact.pth");
  write("notes.txt", "x");
  write("pickle.pkl", "x");
  write("tfjs/model.json", "{}");
  write("tfjs/group1-shard1of1.bin", "x");
  write("tfjs/package.json", "{}");
  EXPECT_EQ(options(), json::parse(R"(["b/compact.pth", "compact_x2.safetensors",
                                       "tfjs/group1-shard1of1.bin", "tfjs/model.json"])"));
}

TEST_F(UpscaleModelLoader, ListsBundledModelsByName) {
  if (!fs::is_directory(bundled_root)) {
    GTEST_SKIP() << "no bundled models at " << bundled_root << " (scripts/bootstrap installs them)";
  }
  add_fixture("compact_x2.pth");
  context_.env.model_folders["upscale_models"].push_back(bundled_root);
  const json names = options();
  EXPECT_EQ(names.at(0), "compact_x2.pth");
  for (const char* name : {"esrgan-thick-x4", "esrgan-slim-x2"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << names.dump();
  }
  // The package files themselves are not listed.
  for (const auto& name : names) {
    EXPECT_EQ(name.get<std::string>().find("model.json"), std::string::npos) << name;
  }
}

TEST_F(UpscaleModelLoader, MissingFileIsFileNotFound) {
  EXPECT_EQ(load_error("nothing.pth"),
            (std::pair<std::string, std::string>{
                "FileNotFoundError",
                "Model in folder 'upscale_models' with filename 'nothing.pth' not found."}));
}

TEST_F(UpscaleModelLoader, NamesCannotLeaveTheFolder) {
  fs::copy_file(fixtures / "compact_x2.pth", models_.parent_path() / "x.pth");
  EXPECT_EQ(load_error("../x.pth").first, "FileNotFoundError");
  EXPECT_EQ(load_error((models_.parent_path() / "x.pth").string()).first, "FileNotFoundError");
}

TEST_F(UpscaleModelLoader, CorruptOrHostileFilesAreValueErrors) {
  for (const char* name : {"truncated.pth", "truncated.safetensors", "malicious_os_system.pth"}) {
    add_fixture(name);
    const auto [type, message] = load_error(name);
    EXPECT_EQ(type, "ValueError") << name << ": " << message;
    EXPECT_FALSE(message.empty());
  }
  write("garbage.safetensors", "this is not a model");
  EXPECT_EQ(load_error("garbage.safetensors").first, "ValueError");
}

TEST_F(UpscaleModelLoader, FixtureModelMatchesPyTorch) {
  for (const char* name : {"compact_x2.safetensors", "compact_x2.pth", "rrdb_new_x4.pth"}) {
    SCOPED_TRACE(name);
    add_fixture(name);
    const auto model =
        std::get<std::shared_ptr<const engine::opaque_value>>(load(name).outputs.at(0));
    EXPECT_EQ(model->type, "UPSCALE_MODEL");
    EXPECT_GT(model->byte_size, 0U);
    const std::string stem = fs::path(name).stem().string();
    const std::vector<float> input = read_floats(fixtures / "input_1x3x12x10.f32");
    const std::vector<float> expected = read_floats(fixtures / (stem + "_expected.f32"));
    const int scale = upscale_model_from(*model)->graph->scale;
    engine::node_inputs inputs;
    inputs.values = {{"upscale_model", model}, {"image", planar_to_image(input, 3, 12, 10)}};
    const auto out = output_image(run("ImageUpscaleWithModel", inputs, context_));
    ASSERT_EQ(out->height, 12 * scale);
    ASSERT_EQ(out->width, 10 * scale);
    const auto want = planar_to_image(expected, 3, 12 * scale, 10 * scale);
    double max_error = 0;
    for (std::size_t i = 0; i < out->data.size(); ++i) {
      max_error = std::max<double>(max_error,
                                   std::abs(out->data[i] - std::clamp(want->data[i], 0.0F, 1.0F)));
    }
    EXPECT_LT(max_error, 1e-4);
  }
}

// A 600-pixel-wide image is cut into tiles at 0 (512 wide) and 480 (120 wide): output columns
// 960..1023 are blended. Only pixels within the network's reach of a tile edge (where a tile saw
// zero padding instead of its neighbours) differ from one untiled run; they get small ramp weights,
// and everywhere else the result is the untiled one within 1/255 (the issue's bound; in fact to
// float rounding).
TEST_F(UpscaleModelLoader, TiledRunMatchesUntiledRun) {
  add_fixture("compact_x2.safetensors");
  const auto value = std::get<std::shared_ptr<const engine::opaque_value>>(
      load("compact_x2.safetensors").outputs.at(0));
  const auto model = upscale_model_from(*value);
  const auto image = make_image(1, 24, 600, 3, [](int, int y, int x, int c) {
    return static_cast<float>((y * 13 + x * 7 + c * 29) % 97) / 96.0F;
  });
  engine::node_inputs inputs;
  inputs.values = {{"upscale_model", value}, {"image", image}};
  const auto tiled = output_image(run("ImageUpscaleWithModel", inputs, context_));

  nn::host_tensor whole(nn::tensor_shape{1, 3, 24, 600});
  for (int y = 0; y < 24; ++y) {
    for (int x = 0; x < 600; ++x) {
      for (int c = 0; c < 3; ++c) {
        whole.data[(static_cast<std::size_t>(c) * 24 + y) * 600 + x] = at(*image, 0, y, x, c);
      }
    }
  }
  const nn::host_tensor untiled = model->network->run(whole);
  ASSERT_EQ(untiled.shape, (nn::tensor_shape{1, 3, 48, 1200}));
  double seam_error = 0;
  double other_error = 0;
  constexpr int reach = 16;  // output pixels; the fixture network's receptive field is smaller
  for (int y = 0; y < 48; ++y) {
    for (int x = 0; x < 1200; ++x) {
      const bool near_seam = std::abs(x - 960) < reach || std::abs(x - 1023) < reach;
      for (int c = 0; c < 3; ++c) {
        const float want =
            std::clamp(untiled.data[(static_cast<std::size_t>(c) * 48 + y) * 1200 + x], 0.0F, 1.0F);
        const double error = std::abs(at(*tiled, 0, y, x, c) - want);
        (near_seam ? seam_error : other_error) =
            std::max(near_seam ? seam_error : other_error, error);
      }
    }
  }
  EXPECT_LT(other_error, 1e-5);
  EXPECT_LT(seam_error, 0.1);
}

TEST_F(UpscaleModelLoader, BundledModelUpscales) {
  if (!fs::is_directory(bundled_root)) {
    GTEST_SKIP() << "no bundled models at " << bundled_root;
  }
  context_.env.model_folders["upscale_models"].push_back(bundled_root);
  const auto value =
      std::get<std::shared_ptr<const engine::opaque_value>>(load("esrgan-slim-x2").outputs.at(0));
  engine::node_inputs inputs;
  inputs.values = {{"upscale_model", value},
                   {"image", make_image(1, 9, 7, 3, [](int, int y, int x, int c) {
                      return static_cast<float>(y + x + c) / 20.0F;
                    })}};
  const auto out = output_image(run("ImageUpscaleWithModel", inputs, context_));
  EXPECT_EQ(out->height, 18);
  EXPECT_EQ(out->width, 14);
  EXPECT_EQ(out->channels, 3);
  for (const float v : out->data) {
    ASSERT_GE(v, 0.0F);
    ASSERT_LE(v, 1.0F);
  }
}

}  // namespace
}  // namespace comfydist::nodes::test
