// The bundled @upscalerjs models (installed by scripts/bootstrap) against the outputs TensorFlow.js
// computed for them (../shared/reference/upscalerjs). Test names ending in "Slow" run real
// networks on 128×128 inputs.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nn/backend.hpp"
#include "nn/bundled_models.hpp"
#include "nn/tfjs/tfjs_loader.hpp"
#include "nn_test_graphs.hpp"

namespace comfydist::nn {
namespace {

namespace fs = std::filesystem;

const fs::path bundled_root = fs::path(COMFYDIST_SOURCE_DIR) / "third_party" / "upscalerjs";
const fs::path reference_dir = fs::path(COMFYDIST_SHARED_DIR) / "reference" / "upscalerjs";

std::vector<bundled_model> bundled_or_fail() {
  auto models = find_bundled_models(bundled_root);
  if (models.empty()) {
    ADD_FAILURE() << "no bundled models under " << bundled_root << ": run scripts/bootstrap";
  }
  return models;
}

fs::path model_path(const std::string& name) {
  for (const bundled_model& m : bundled_or_fail()) {
    if (m.name == name) {
      return m.model_json;
    }
  }
  ADD_FAILURE() << "bundled model " << name << " not found under " << bundled_root
                << ": run scripts/bootstrap";
  return {};
}

// Reads a reference NHWC float32 file (shape from the JSON beside it) into NCHW.
host_tensor read_nhwc(const fs::path& f32) {
  fs::path meta = f32;
  meta.replace_extension(".json");
  std::ifstream meta_in(meta);
  if (!meta_in) {
    ADD_FAILURE() << "missing " << meta << " (the shared reference folder)";
    return {};
  }
  const auto shape = nlohmann::json::parse(meta_in).at("shape").get<std::vector<int>>();
  const int n = shape.at(0);
  const int h = shape.at(1);
  const int w = shape.at(2);
  const int c = shape.at(3);
  std::vector<float> nhwc(static_cast<std::size_t>(n) * h * w * c);
  std::ifstream in(f32, std::ios::binary);
  in.read(reinterpret_cast<char*>(nhwc.data()),
          static_cast<std::streamsize>(nhwc.size() * sizeof(float)));
  if (!in) {
    ADD_FAILURE() << "cannot read " << f32;
    return {};
  }
  host_tensor t({n, c, h, w});
  for (int b = 0; b < n; ++b) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int k = 0; k < c; ++k) {
          t.data[((static_cast<std::size_t>(b) * c + k) * h + y) * w + x] =
              nhwc[((static_cast<std::size_t>(b) * h + y) * w + x) * c + k];
        }
      }
    }
  }
  return t;
}

void check_against_tfjs(const std::string& reference, const std::string& bundled) {
  const fs::path model = model_path(bundled);
  ASSERT_FALSE(model.empty());
  const host_tensor input = read_nhwc(reference_dir / (reference + ".input.f32"));
  const host_tensor expected = read_nhwc(reference_dir / (reference + ".output.f32"));
  ASSERT_FALSE(input.data.empty()) << "reference data missing: is ../shared present?";
  const auto g = load_tfjs_model(model);
  auto network = make_cpu_backend(0)->compile(g);
  const host_tensor got = network->run(input);
  ASSERT_EQ(got.shape, expected.shape);
  const testing::tensor_diff d = testing::compare(got, expected);
  const double max01 = d.max_abs / g->output_divisor;
  const double mean01 = d.mean_abs / g->output_divisor;
  std::printf("[ accuracy ] %s: max abs error %.3g, mean %.3g (0-1 scale); peak %.1f MiB\n",
              reference.c_str(), max01, mean01,
              static_cast<double>(network->last_peak_bytes()) / (1 << 20));
  EXPECT_LE(max01, 1e-3);
  EXPECT_LE(mean01, 1e-4);
}

TEST(UpscalerjsModels, BundledFolderLayout) {
  const auto models = bundled_or_fail();
  std::vector<std::string> names;
  for (const bundled_model& m : models) {
    names.push_back(m.name);
  }
  for (const char* want : {"default-model-x2", "esrgan-slim-x2", "esrgan-slim-x8",
                           "esrgan-medium-x3", "esrgan-thick-x4", "esrgan-thick-x8"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  EXPECT_EQ(models.size(), 13U);
}

TEST(UpscalerjsModels, EveryBundledModelLoadsAndRunsSlow) {
  for (const bundled_model& m : bundled_or_fail()) {
    SCOPED_TRACE(m.name);
    const auto g = load_tfjs_model(m.model_json);
    EXPECT_EQ(g->scale, m.scale);
    auto network = make_cpu_backend(0)->compile(g);
    const host_tensor out = network->run(host_tensor({1, 3, 9, 7}, 0.5F * g->input_multiplier));
    EXPECT_EQ(out.shape, (tensor_shape{1, 3, 9 * m.scale, 7 * m.scale}));
    EXPECT_LE(network->last_peak_bytes(), network->estimate_peak_bytes(9, 7));
  }
}

TEST(UpscalerjsModels, EsrganSlimX2Slow) {
  check_against_tfjs("esrgan-slim_x2", "esrgan-slim-x2");
}
TEST(UpscalerjsModels, DefaultModelIsSlimX2Slow) {
  check_against_tfjs("esrgan-slim_x2", "default-model-x2");
}
TEST(UpscalerjsModels, EsrganSlimX4Slow) {
  check_against_tfjs("esrgan-slim_x4", "esrgan-slim-x4");
}
TEST(UpscalerjsModels, EsrganMediumX2Slow) {
  check_against_tfjs("esrgan-medium_x2", "esrgan-medium-x2");
}
TEST(UpscalerjsModels, EsrganThickX2Slow) {
  check_against_tfjs("esrgan-thick_x2", "esrgan-thick-x2");
}
TEST(UpscalerjsModels, EsrganThickX4Slow) {
  check_against_tfjs("esrgan-thick_x4", "esrgan-thick-x4");
}

}  // namespace
}  // namespace comfydist::nn
