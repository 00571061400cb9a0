// Speed probes for the oneDNN backend, disabled by default (run a Release build with
// --gtest_also_run_disabled_tests --gtest_filter='*Speed*'): GFLOP/s of one 3×3 64→64 convolution
// and of esrgan-thick-x4 on a 256×256 input.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "nn/backend.hpp"
#include "nn/bundled_models.hpp"
#include "nn/tfjs/tfjs_loader.hpp"
#include "nn_test_graphs.hpp"

namespace comfydist::nn {
namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec) * 1e-6;
}

// Wall seconds per run; `cpu` receives user CPU seconds per run (the machine may be shared, and
// CPU time per FLOP is what contention does not change much at one thread).
double seconds_per_run(compiled_network& network, const host_tensor& input, int runs, double& cpu) {
  (void)network.run(input);  // primitives for this size
  const double cpu_start = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) {
    (void)network.run(input);
  }
  const std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
  cpu = (cpu_seconds() - cpu_start) / runs;
  return d.count() / runs;
}

TEST(OnednnSpeed, DISABLED_Conv3x3From64To64) {
  testing::graph_builder b(64);
  const int c = b.conv(0, 64, 3);
  const graph g = b.finish(c, 1);
  auto network = make_cpu_backend(0)->compile(std::make_shared<const graph>(g));
  const int size = 256;
  double cpu = 0.0;
  const double s =
      seconds_per_run(*network, testing::random_tensor({1, 64, size, size}, 1), 20, cpu);
  const double flop = 2.0 * g.macs_per_input_pixel() * size * size;
  std::printf("[ speed ] conv 3x3 64->64 at %dx%d: %.2f ms, %.1f GFLOP/s (%.1f per CPU-second)\n",
              size, size, s * 1e3, flop / s / 1e9, flop / cpu / 1e9);
}

TEST(OnednnSpeed, DISABLED_EsrganThickX4At256) {
  std::filesystem::path model;
  for (const bundled_model& m : find_bundled_models(std::filesystem::path(COMFYDIST_SOURCE_DIR) /
                                                    "third_party" / "upscalerjs")) {
    if (m.name == "esrgan-thick-x4") {
      model = m.model_json;
    }
  }
  ASSERT_FALSE(model.empty()) << "run scripts/bootstrap";
  const auto g = load_tfjs_model(model);
  auto network = make_cpu_backend(0)->compile(g);
  const int size = 256;
  double cpu = 0.0;
  const double s = seconds_per_run(*network, testing::random_tensor({1, 3, size, size}, 2), 1, cpu);
  const double flop = 2.0 * g->macs_per_input_pixel() * size * size;
  std::printf(
      "[ speed ] esrgan-thick-x4 at %dx%d: %.2f s, %.1f GFLOP/s (%.1f per CPU-second), %.3f MP/s, "
      "peak %.0f MiB (estimate %.0f MiB), weights %.1f MiB\n",
      size, size, s, flop / s / 1e9, flop / cpu / 1e9, size * size / s / 1e6,
      static_cast<double>(network->last_peak_bytes()) / (1 << 20),
      static_cast<double>(network->estimate_peak_bytes(size, size)) / (1 << 20),
      static_cast<double>(network->weight_bytes()) / (1 << 20));
}

TEST(OnednnSpeed, MacsPerPixelMatchTheReadme) {
  const std::filesystem::path root =
      std::filesystem::path(COMFYDIST_SOURCE_DIR) / "third_party" / "upscalerjs";
  const std::vector<std::pair<std::string, double>> expected = {
      {"esrgan-slim-x2", 222544},   {"esrgan-slim-x4", 252352},   {"esrgan-slim-x8", 604864},
      {"esrgan-medium-x2", 692560}, {"esrgan-medium-x4", 722368}, {"esrgan-thick-x2", 7234308},
      {"esrgan-thick-x4", 7256016}, {"esrgan-thick-x8", 7342848}};
  const auto models = find_bundled_models(root);
  ASSERT_FALSE(models.empty()) << "run scripts/bootstrap";
  for (const auto& [name, macs] : expected) {
    for (const bundled_model& m : models) {
      if (m.name == name) {
        EXPECT_DOUBLE_EQ(load_tfjs_model(m.model_json)->macs_per_input_pixel(), macs) << name;
      }
    }
  }
}

}  // namespace
}  // namespace comfydist::nn
