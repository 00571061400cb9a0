// Resampling: hand-computed PyTorch values, numpy-reimplemented torch values and Pillow lanczos.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "fixture_util.hpp"
#include "image/resample.hpp"

namespace comfydist::image {
namespace {

std::vector<float> run(const std::vector<float>& in, int h, int w, int c, int oh, int ow,
                       resample_method method) {
  return resample(in.data(), h, w, c, oh, ow, method);
}

void expect_near_all(const std::vector<float>& actual, const std::vector<float>& expected,
                     float tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], tolerance) << "index " << i;
  }
}

TEST(Resample, ParsesComfyNames) {
  EXPECT_EQ(parse_resample_method("nearest-exact"), resample_method::nearest_exact);
  EXPECT_EQ(parse_resample_method("bilinear"), resample_method::bilinear);
  EXPECT_EQ(parse_resample_method("area"), resample_method::area);
  EXPECT_EQ(parse_resample_method("bicubic"), resample_method::bicubic);
  EXPECT_EQ(parse_resample_method("lanczos"), resample_method::lanczos);
  EXPECT_THROW(parse_resample_method("nearest"), std::invalid_argument);
  EXPECT_THROW(parse_resample_method("bislerp"), std::invalid_argument);
}

TEST(Resample, RejectsEmptySizes) {
  const std::vector<float> in(4, 0.5f);
  EXPECT_THROW(run(in, 2, 2, 1, 0, 2, resample_method::bilinear), std::invalid_argument);
  EXPECT_THROW(run(in, 2, 2, 0, 2, 2, resample_method::area), std::invalid_argument);
}

TEST(Resample, NearestExactByHand) {
  // 2x2 -> 4x4: scale 0.5, source index floor((i + 0.5) * 0.5) = 0, 0, 1, 1.
  const std::vector<float> up = run({1, 2, 3, 4}, 2, 2, 1, 4, 4, resample_method::nearest_exact);
  EXPECT_EQ(up, (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  // 1x5 -> 1x2: scale 2.5, floor(1.25) = 1, floor(3.75) = 3.
  EXPECT_EQ(run({0, 1, 2, 3, 4}, 1, 5, 1, 1, 2, resample_method::nearest_exact),
            (std::vector<float>{1, 3}));
  // 3x1 -> 7x1: scale 3/7, indices 0, 0, 1, 1, 1, 2, 2.
  EXPECT_EQ(run({10, 20, 30}, 3, 1, 1, 7, 1, resample_method::nearest_exact),
            (std::vector<float>{10, 10, 20, 20, 20, 30, 30}));
}

TEST(Resample, BilinearByHand) {
  // 2x2 -> 4x4 of [[0, 1], [2, 3]]: per axis the source coordinate is max(0.5 * (i + 0.5) -
  // 0.5, 0) = 0, 0.25, 0.75, 1.25 (the last clamps to index 1), giving f = 0, .25, .75, 1 and
  // out[y][x] = 2 f(y) + f(x).
  const float f[4] = {0.0f, 0.25f, 0.75f, 1.0f};
  std::vector<float> expected;
  for (float fy : f) {
    for (float fx : f) {
      expected.push_back(2 * fy + fx);
    }
  }
  expect_near_all(run({0, 1, 2, 3}, 2, 2, 1, 4, 4, resample_method::bilinear), expected, 1e-6f);
  // 1x4 -> 1x2 (downscale, no antialias): coordinates 0.5 and 2.5.
  expect_near_all(run({0, 1, 2, 4}, 1, 4, 1, 1, 2, resample_method::bilinear), {0.5f, 3.0f}, 1e-6f);
}

TEST(Resample, AreaByHand) {
  std::vector<float> in(16);
  for (int i = 0; i < 16; ++i) {
    in[i] = static_cast<float>(i);
  }
  // 4x4 -> 2x2: 2x2 block means.
  expect_near_all(run(in, 4, 4, 1, 2, 2, resample_method::area), {2.5f, 4.5f, 10.5f, 12.5f}, 1e-6f);
  // 1x3 -> 1x2: windows [0, 2) and [1, 3) overlap.
  expect_near_all(run({1, 2, 4}, 1, 3, 1, 1, 2, resample_method::area), {1.5f, 3.0f}, 1e-6f);
  // Two channels are averaged independently.
  expect_near_all(run({0, 10, 2, 30}, 1, 2, 2, 1, 1, resample_method::area), {1.0f, 20.0f}, 1e-6f);
}

TEST(Resample, BicubicByHand) {
  // 1x4 -> 1x2: source coordinates 0.5 and 2.5, weights (-0.09375, 0.59375, 0.59375, -0.09375),
  // taps clamped to the border.
  expect_near_all(run({0, 1, 2, 3}, 1, 4, 1, 1, 2, resample_method::bicubic), {0.40625f, 2.59375f},
                  1e-6f);
  // 1x2 -> 1x4: coordinates -0.25, 0.25, 0.75, 1.25 (not clamped); overshoots below 0 and
  // above 1, as in PyTorch.
  expect_near_all(run({0, 1}, 1, 2, 1, 1, 4, resample_method::bicubic),
                  {-0.10546875f, 0.2265625f, 0.7734375f, 1.10546875f}, 1e-6f);
}

TEST(Resample, SameSizeIsIdentityForTorchModes) {
  std::vector<float> in(5 * 3 * 3);
  for (std::size_t i = 0; i < in.size(); ++i) {
    in[i] = static_cast<float>(i % 7) / 7.0f;
  }
  for (auto method : {resample_method::nearest_exact, resample_method::bilinear,
                      resample_method::area, resample_method::bicubic}) {
    expect_near_all(run(in, 5, 3, 3, 5, 3, method), in, 1e-6f);
  }
}

TEST(Resample, LanczosQuantisesLikeComfy) {
  // Same size: PIL returns a copy, so only the clip+truncate to 8 bits and /255 remain.
  const std::vector<float> in = {-0.5f, 0.0f, 0.5f, 0.99999f, 1.0f, 2.0f};
  const std::vector<float> out = run(in, 1, 2, 3, 1, 2, resample_method::lanczos);
  const std::vector<float> expected = {0.0f, 0.0f, 127.0f / 255.0f, 254.0f / 255.0f, 1.0f, 1.0f};
  EXPECT_EQ(out, expected);
}

TEST(Resample, MatchesGeneratedExpectations) {
  const auto fixture = nlohmann::json::parse(test::fixture("expected_values.json"));
  int lanczos_cases = 0;
  int torch_cases = 0;
  for (const auto& c : fixture.at("resample")) {
    const std::string method_name = c.at("method");
    const int h = c.at("height");
    const int w = c.at("width");
    const int ch = c.at("channels");
    const int oh = c.at("new_height");
    const int ow = c.at("new_width");
    const std::vector<float> in = c.at("input").get<std::vector<float>>();
    const std::vector<float> out = run(in, h, w, ch, oh, ow, parse_resample_method(method_name));
    SCOPED_TRACE(method_name + " " + std::to_string(h) + "x" + std::to_string(w) + "x" +
                 std::to_string(ch) + " -> " + std::to_string(oh) + "x" + std::to_string(ow));
    if (method_name == "lanczos") {
      const auto expected = c.at("expected_u8").get<std::vector<int>>();
      ASSERT_EQ(out.size(), expected.size());
      for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i], static_cast<float>(expected[i]) / 255.0f) << "index " << i;
      }
      ++lanczos_cases;
    } else {
      expect_near_all(out, c.at("expected").get<std::vector<float>>(), 1e-5f);
      ++torch_cases;
    }
  }
  EXPECT_GE(lanczos_cases, 9);
  EXPECT_GE(torch_cases, 20);
}

}  // namespace
}  // namespace comfydist::image
