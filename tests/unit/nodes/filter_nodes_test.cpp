// ImageBlur, ImageSharpen, ImageScale, ImageScaleBy and ImageAddNoise against the reference
// formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "node_test_util.hpp"

namespace comfydist::nodes::test {
namespace {

float wave(int b, int y, int x, int c) {
  return 0.5F + 0.4F * std::sin(static_cast<float>(x * 3 + y * 7 + c * 5 + b * 11));
}

// §5.9 gaussian_kernel in double: coordinates linspace(-1, 1, k).
std::vector<double> reference_gaussian(int k, double sigma) {
  std::vector<double> kernel(static_cast<std::size_t>(k) * k);
  double sum = 0.0;
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      const double x = k == 1 ? -1.0 : -1.0 + 2.0 * i / (k - 1);
      const double y = k == 1 ? -1.0 : -1.0 + 2.0 * j / (k - 1);
      const double g = std::exp(-(x * x + y * y) / (2.0 * sigma * sigma));
      kernel[static_cast<std::size_t>(i) * k + j] = g;
      sum += g;
    }
  }
  for (double& v : kernel) {
    v /= sum;
  }
  return kernel;
}

int reflect(int i, int n) {
  return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i);
}

double reference_convolve(const engine::image_tensor& image, const std::vector<double>& kernel,
                          int k, int b, int y, int x, int c) {
  const int r = k / 2;
  double sum = 0.0;
  for (int dy = -r; dy <= r; ++dy) {
    for (int dx = -r; dx <= r; ++dx) {
      sum += kernel[static_cast<std::size_t>(dy + r) * k + (dx + r)] *
             at(image, b, reflect(y + dy, image.height), reflect(x + dx, image.width), c);
    }
  }
  return sum;
}

TEST(ImageBlur, MatchesTheReflectPaddedGaussian) {
  test_context context;
  const auto image = make_image(2, 6, 7, 3, wave);
  engine::node_inputs inputs;
  inputs.values = {{"image", image}, {"blur_radius", std::int64_t{2}}, {"sigma", 0.7}};
  const auto out = output_image(run("ImageBlur", inputs, context));
  const auto kernel = reference_gaussian(5, 0.7);
  for (int b = 0; b < 2; ++b) {
    for (int y = 0; y < 6; ++y) {
      for (int x = 0; x < 7; ++x) {
        for (int c = 0; c < 3; ++c) {
          EXPECT_NEAR(at(*out, b, y, x, c), reference_convolve(*image, kernel, 5, b, y, x, c),
                      1e-5);
        }
      }
    }
  }
  EXPECT_GE(context.interrupt_checks, 2);
}

TEST(ImageBlur, RefusesARadiusAsLargeAsTheImage) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {
      {"image", make_image(1, 3, 8, 3, wave)}, {"blur_radius", std::int64_t{3}}, {"sigma", 1.0}};
  try {
    run("ImageBlur", inputs, context);
    FAIL();
  } catch (const engine::node_error& error) {
    EXPECT_EQ(error.exception_type(), "RuntimeError");
    EXPECT_NE(std::string(error.what()).find("at dimension 2"), std::string::npos);
  }
}

TEST(ImageBlur, CanBeInterruptedInsideOneImage) {
  test_context context;
  context.interrupt_after = 1;  // the check before the image passes, one inside fails
  engine::node_inputs inputs;
  inputs.values = {
      {"image", make_image(1, 64, 64, 3, wave)}, {"blur_radius", std::int64_t{1}}, {"sigma", 1.0}};
  EXPECT_THROW(run("ImageBlur", inputs, context), engine::interrupted_error);
  EXPECT_EQ(context.interrupt_checks, 2);
}

TEST(ImageSharpen, MatchesTheUnsharpKernelAndClamps) {
  test_context context;
  const auto image = make_image(1, 5, 6, 3, wave);
  engine::node_inputs inputs;
  inputs.values = {
      {"image", image}, {"sharpen_radius", std::int64_t{1}}, {"sigma", 1.5}, {"alpha", 0.3}};
  const auto out = output_image(run("ImageSharpen", inputs, context));
  auto kernel = reference_gaussian(3, 1.5);
  double sum = 0.0;
  for (double& v : kernel) {
    v *= -(0.3 * 10);
    sum += v;
  }
  kernel[4] = kernel[4] - sum + 1.0;
  bool clamped = false;
  for (int y = 0; y < 5; ++y) {
    for (int x = 0; x < 6; ++x) {
      for (int c = 0; c < 3; ++c) {
        const double raw = reference_convolve(*image, kernel, 3, 0, y, x, c);
        clamped = clamped || raw < 0.0 || raw > 1.0;
        EXPECT_NEAR(at(*out, 0, y, x, c), std::clamp(raw, 0.0, 1.0), 2e-5);
      }
    }
  }
  EXPECT_TRUE(clamped) << "the test image should exercise the clamp";
}

engine::node_inputs scale_inputs(engine::image_ptr image, const char* method, std::int64_t width,
                                 std::int64_t height, const char* crop = "disabled") {
  engine::node_inputs inputs;
  inputs.values = {{"image", std::move(image)},
                   {"upscale_method", std::string(method)},
                   {"width", width},
                   {"height", height},
                   {"crop", std::string(crop)}};
  return inputs;
}

TEST(ImageScale, NearestExactAndBilinear) {
  test_context context;
  const auto image =
      make_image(1, 1, 2, 1, [](int, int, int x, int) { return x == 0 ? 0.2F : 0.6F; });
  auto out = output_image(run("ImageScale", scale_inputs(image, "nearest-exact", 4, 1), context));
  EXPECT_FLOAT_EQ(out->data[0], 0.2F);
  EXPECT_FLOAT_EQ(out->data[1], 0.2F);
  EXPECT_FLOAT_EQ(out->data[2], 0.6F);
  EXPECT_FLOAT_EQ(out->data[3], 0.6F);
  // align_corners=False: sources -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
  out = output_image(run("ImageScale", scale_inputs(image, "bilinear", 4, 1), context));
  EXPECT_NEAR(out->data[0], 0.2F, 1e-6);
  EXPECT_NEAR(out->data[1], 0.75F * 0.2F + 0.25F * 0.6F, 1e-6);
  EXPECT_NEAR(out->data[2], 0.25F * 0.2F + 0.75F * 0.6F, 1e-6);
  EXPECT_NEAR(out->data[3], 0.6F, 1e-6);
}

TEST(ImageScale, AreaAveragesAndLanczosQuantises) {
  test_context context;
  const auto image =
      make_image(1, 1, 4, 1, [](int, int, int x, int) { return 0.1F * static_cast<float>(x); });
  auto out = output_image(run("ImageScale", scale_inputs(image, "area", 2, 1), context));
  EXPECT_NEAR(out->data[0], 0.05F, 1e-6);
  EXPECT_NEAR(out->data[1], 0.25F, 1e-6);
  const auto flat = make_image(1, 4, 4, 3, [](int, int, int, int) { return 0.5F; });
  out = output_image(run("ImageScale", scale_inputs(flat, "lanczos", 7, 3), context));
  for (const float v : out->data) {
    EXPECT_NEAR(v, 127.0F / 255.0F, 1.0F / 255.0F);
  }
  out = output_image(run("ImageScale", scale_inputs(flat, "bicubic", 9, 9), context));
  for (const float v : out->data) {
    EXPECT_NEAR(v, 0.5F, 1e-5);
  }
}

TEST(ImageScale, ZeroSidesKeepTheAspectWithPythonRounding) {
  test_context context;
  const auto image = make_image(1, 2, 5, 3, wave);
  // round(5 * 1 / 2) = round(2.5) = 2 (half to even).
  auto out = output_image(run("ImageScale", scale_inputs(image, "bilinear", 0, 1), context));
  EXPECT_EQ(out->width, 2);
  EXPECT_EQ(out->height, 1);
  out = output_image(run("ImageScale", scale_inputs(image, "bilinear", 10, 0), context));
  EXPECT_EQ(out->height, 4);
  const auto same = output_image(run("ImageScale", scale_inputs(image, "bilinear", 0, 0), context));
  EXPECT_EQ(same, image);
}

TEST(ImageScale, CenterCropTakesTheMiddle) {
  test_context context;
  // W=4, H=2 to 2×2: x = round((4 - 4·(1/2)) / 2) = 1, columns 1 and 2 remain.
  const auto image = make_image(
      1, 2, 4, 1, [](int, int y, int x, int) { return static_cast<float>(y * 4 + x) / 10.0F; });
  const auto out = output_image(
      run("ImageScale", scale_inputs(image, "nearest-exact", 2, 2, "center"), context));
  EXPECT_FLOAT_EQ(at(*out, 0, 0, 0, 0), 0.1F);
  EXPECT_FLOAT_EQ(at(*out, 0, 0, 1, 0), 0.2F);
  EXPECT_FLOAT_EQ(at(*out, 0, 1, 0, 0), 0.5F);
  EXPECT_FLOAT_EQ(at(*out, 0, 1, 1, 0), 0.6F);
}

TEST(ImageScaleBy, RoundsHalfToEven) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"image", make_image(1, 5, 3, 3, wave)},
                   {"upscale_method", std::string("area")},
                   {"scale_by", 0.5}};
  const auto out = output_image(run("ImageScaleBy", inputs, context));
  EXPECT_EQ(out->width, 2);   // round(1.5)
  EXPECT_EQ(out->height, 2);  // round(2.5)
  inputs.values["image"] = make_image(1, 1, 1, 3, wave);
  inputs.values["scale_by"] = 0.01;
  EXPECT_THROW(run("ImageScaleBy", inputs, context), engine::node_error);
}

engine::node_inputs noise_inputs(engine::image_ptr image, std::int64_t seed, double strength) {
  engine::node_inputs inputs;
  inputs.values = {{"image", std::move(image)}, {"seed", seed}, {"strength", strength}};
  return inputs;
}

TEST(ImageAddNoise, IsDeterministicPerSeed) {
  test_context context;
  const auto image = make_image(2, 16, 16, 3, [](int, int, int, int) { return 0.5F; });
  const auto a = output_image(run("ImageAddNoise", noise_inputs(image, 42, 0.5), context));
  const auto b = output_image(run("ImageAddNoise", noise_inputs(image, 42, 0.5), context));
  const auto c = output_image(run("ImageAddNoise", noise_inputs(image, 43, 0.5), context));
  // 2^64-1 arrives as the bit pattern -1.
  const auto d = output_image(run("ImageAddNoise", noise_inputs(image, -1, 0.5), context));
  EXPECT_EQ(a->data, b->data);
  EXPECT_NE(a->data, c->data);
  EXPECT_NE(a->data, d->data);
  for (const float v : a->data) {
    EXPECT_GE(v, 0.0F);
    EXPECT_LE(v, 1.0F);
  }
  const auto none = output_image(run("ImageAddNoise", noise_inputs(image, 42, 0.0), context));
  EXPECT_EQ(none->data, image->data);
}

TEST(ImageAddNoise, NoiseIsStandardNormal) {
  test_context context;
  const auto image = make_image(1, 100, 100, 3, [](int, int, int, int) { return 0.5F; });
  const auto out = output_image(run("ImageAddNoise", noise_inputs(image, 7, 0.01), context));
  double sum = 0.0;
  double squares = 0.0;
  for (const float v : out->data) {
    const double n = (static_cast<double>(v) - 0.5) / 0.01;
    sum += n;
    squares += n * n;
  }
  const double count = static_cast<double>(out->data.size());
  const double mean = sum / count;
  EXPECT_NEAR(mean, 0.0, 0.03);
  EXPECT_NEAR(std::sqrt(squares / count - mean * mean), 1.0, 0.03);
}

}  // namespace
}  // namespace comfydist::nodes::test
