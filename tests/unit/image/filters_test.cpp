// Blur/sharpen kernels and reflect convolution against the numpy reimplementation of ComfyUI.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>

#include "fixture_util.hpp"
#include "image/filters.hpp"

namespace comfydist::image {
namespace {

TEST(Filters, GaussianKernelByHand) {
  // size 3, sigma 1: coordinates -1, 0, 1; g = exp(-d^2 / 2) with d^2 in {0, 1, 2}.
  const std::vector<float> k = gaussian_kernel(3, 1.0f);
  const double e1 = std::exp(-0.5);
  const double e2 = std::exp(-1.0);
  const double sum = 1 + 4 * e1 + 4 * e2;
  ASSERT_EQ(k.size(), 9u);
  EXPECT_NEAR(k[4], 1 / sum, 1e-7);
  EXPECT_NEAR(k[1], e1 / sum, 1e-7);
  EXPECT_NEAR(k[0], e2 / sum, 1e-7);
  EXPECT_NEAR(std::accumulate(k.begin(), k.end(), 0.0), 1.0, 1e-6);
  EXPECT_EQ(gaussian_kernel(1, 1.0f), std::vector<float>{1.0f});
  EXPECT_THROW(gaussian_kernel(4, 1.0f), std::invalid_argument);
  EXPECT_THROW(gaussian_kernel(3, 0.0f), std::invalid_argument);
}

TEST(Filters, SharpenKernelSumsToOne) {
  const std::vector<float> k = sharpen_kernel(5, 1.0f, 1.0f);
  EXPECT_NEAR(std::accumulate(k.begin(), k.end(), 0.0), 1.0, 1e-5);
  const std::vector<float> g = gaussian_kernel(5, 1.0f);
  EXPECT_NEAR(k[0], -10.0f * g[0], 1e-6);
  EXPECT_GT(k[12], 1.0f);
}

TEST(Filters, ReflectPaddingByHand) {
  // 1x3 row [1, 2, 4] with a horizontal [1, 1, 1] kernel (in a 3x3 with zero rows):
  // reflect padding gives [2, 1, 2, 4, 2], so the sums are 5, 7, 8.
  const std::vector<float> kernel = {0, 0, 0, 1, 1, 1, 0, 0, 0};
  const std::vector<float> in = {1, 2, 4};
  EXPECT_EQ(convolve_reflect(in.data(), 1, 3, 1, kernel, 3), (std::vector<float>{5, 7, 8}));
}

TEST(Filters, RadiusLargerThanImageStaysInBounds) {
  // torch's reflect pad would refuse this; the reflection bounces instead: for [1, 2] and radius
  // 3 the padded row is 2 1 2 | 1 2 | 1 2 1.
  std::vector<float> kernel(49, 0.0f);
  for (int x = 0; x < 7; ++x) {
    kernel[3 * 7 + x] = 1.0f;
  }
  const std::vector<float> in = {1, 2};
  EXPECT_EQ(convolve_reflect(in.data(), 1, 2, 1, kernel, 7), (std::vector<float>{11, 10}));
  const std::vector<float> one = {0.25f};
  EXPECT_NEAR(convolve_reflect(one.data(), 1, 1, 1, gaussian_kernel(31, 2.0f), 31).at(0), 0.25f,
              1e-6f);
}

TEST(Filters, MatchesNumpyReimplementation) {
  const auto fixture = nlohmann::json::parse(test::fixture("expected_values.json"));
  int cases = 0;
  for (const auto& c : fixture.at("filters")) {
    const int h = c.at("height");
    const int w = c.at("width");
    const int ch = c.at("channels");
    const int radius = c.at("radius");
    const float sigma = c.at("sigma");
    const int k = 2 * radius + 1;
    const bool sharpen = !c.at("alpha").is_null();
    const std::vector<float> kernel =
        sharpen ? sharpen_kernel(k, sigma, c.at("alpha").get<float>()) : gaussian_kernel(k, sigma);
    const auto expected_kernel = c.at("kernel").get<std::vector<float>>();
    ASSERT_EQ(kernel.size(), expected_kernel.size());
    for (std::size_t i = 0; i < kernel.size(); ++i) {
      EXPECT_NEAR(kernel[i], expected_kernel[i], 1e-6f);
    }
    const auto in = c.at("input").get<std::vector<float>>();
    std::vector<float> out = convolve_reflect(in.data(), h, w, ch, kernel, k);
    if (sharpen) {
      for (float& v : out) {
        v = std::clamp(v, 0.0f, 1.0f);
      }
    }
    const auto expected = c.at("expected").get<std::vector<float>>();
    ASSERT_EQ(out.size(), expected.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      EXPECT_NEAR(out[i], expected[i], 1e-5f) << "case " << cases << " index " << i;
    }
    ++cases;
  }
  EXPECT_EQ(cases, 4);
}

}  // namespace
}  // namespace comfydist::image
