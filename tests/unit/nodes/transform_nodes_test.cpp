// ImageCrop, ImageFlip, ImageRotate, RepeatImageBatch, ImageFromBatch and ImageBatch.
#include <gtest/gtest.h>

#include "node_test_util.hpp"

namespace comfydist::nodes::test {
namespace {

// Each value encodes its position, so a moved pixel shows where it came from.
float code(int b, int y, int x, int c) {
  return static_cast<float>(b * 1000 + y * 100 + x * 10 + c) / 10000.0F;
}

engine::image_ptr coded(int b, int h, int w, int c) {
  return make_image(b, h, w, c, code);
}

TEST(ImageCrop, SlicesAndStopsAtTheBorder) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"image", coded(2, 4, 5, 3)},
                   {"width", std::int64_t{2}},
                   {"height", std::int64_t{10}},
                   {"x", std::int64_t{1}},
                   {"y", std::int64_t{2}}};
  const auto out = output_image(run("ImageCrop", inputs, context));
  ASSERT_EQ(out->batch, 2);
  ASSERT_EQ(out->height, 2);
  ASSERT_EQ(out->width, 2);
  EXPECT_FLOAT_EQ(at(*out, 1, 0, 0, 2), code(1, 2, 1, 2));
  EXPECT_FLOAT_EQ(at(*out, 0, 1, 1, 0), code(0, 3, 2, 0));

  // x past the edge is clamped to W-1: one column remains.
  inputs.values["x"] = std::int64_t{100};
  const auto edge = output_image(run("ImageCrop", inputs, context));
  ASSERT_EQ(edge->width, 1);
  EXPECT_FLOAT_EQ(at(*edge, 0, 0, 0, 1), code(0, 2, 4, 1));
}

TEST(ImageFlip, FlipsRowsOrColumns) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"image", coded(1, 2, 3, 1)},
                   {"flip_method", std::string("x-axis: vertically")}};
  auto out = output_image(run("ImageFlip", inputs, context));
  EXPECT_FLOAT_EQ(at(*out, 0, 0, 2, 0), code(0, 1, 2, 0));
  EXPECT_FLOAT_EQ(at(*out, 0, 1, 0, 0), code(0, 0, 0, 0));
  inputs.values["flip_method"] = std::string("y-axis: horizontally");
  out = output_image(run("ImageFlip", inputs, context));
  EXPECT_FLOAT_EQ(at(*out, 0, 0, 0, 0), code(0, 0, 2, 0));
  EXPECT_FLOAT_EQ(at(*out, 0, 1, 1, 0), code(0, 1, 1, 0));
}

TEST(ImageRotate, TurnsClockwise) {
  test_context context;
  engine::node_inputs inputs;
  // 2 rows × 3 columns:  a b c / d e f
  inputs.values = {{"image", coded(1, 2, 3, 2)}, {"rotation", std::string("90 degrees")}};
  auto out = output_image(run("ImageRotate", inputs, context));
  // Clockwise: d a / e b / f c
  ASSERT_EQ(out->height, 3);
  ASSERT_EQ(out->width, 2);
  EXPECT_FLOAT_EQ(at(*out, 0, 0, 0, 1), code(0, 1, 0, 1));
  EXPECT_FLOAT_EQ(at(*out, 0, 0, 1, 1), code(0, 0, 0, 1));
  EXPECT_FLOAT_EQ(at(*out, 0, 2, 0, 0), code(0, 1, 2, 0));

  inputs.values["rotation"] = std::string("180 degrees");
  out = output_image(run("ImageRotate", inputs, context));
  ASSERT_EQ(out->height, 2);
  EXPECT_FLOAT_EQ(at(*out, 0, 0, 0, 0), code(0, 1, 2, 0));
  EXPECT_FLOAT_EQ(at(*out, 0, 1, 2, 0), code(0, 0, 0, 0));

  inputs.values["rotation"] = std::string("270 degrees");
  out = output_image(run("ImageRotate", inputs, context));
  // Counter-clockwise: c f / b e / a d
  ASSERT_EQ(out->height, 3);
  EXPECT_FLOAT_EQ(at(*out, 0, 0, 0, 0), code(0, 0, 2, 0));
  EXPECT_FLOAT_EQ(at(*out, 0, 0, 1, 0), code(0, 1, 2, 0));
  EXPECT_FLOAT_EQ(at(*out, 0, 2, 1, 0), code(0, 1, 0, 0));

  inputs.values["rotation"] = std::string("none");
  const auto same = output_image(run("ImageRotate", inputs, context));
  EXPECT_EQ(same->data, std::get<engine::image_ptr>(inputs.values["image"])->data);
}

TEST(RepeatImageBatch, RepeatsTheWholeBatch) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"image", coded(2, 1, 1, 1)}, {"amount", std::int64_t{3}}};
  const auto out = output_image(run("RepeatImageBatch", inputs, context));
  ASSERT_EQ(out->batch, 6);
  for (int b = 0; b < 6; ++b) {
    EXPECT_FLOAT_EQ(out->data[b], code(b % 2, 0, 0, 0));
  }
  inputs.values = {{"image", coded(1, 1024, 1024, 3)}, {"amount", std::int64_t{4096}}};
  EXPECT_THROW(run("RepeatImageBatch", inputs, context), engine::node_error);
}

TEST(ImageFromBatch, ClampsIndexAndLength) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {
      {"image", coded(4, 1, 1, 1)}, {"batch_index", std::int64_t{2}}, {"length", std::int64_t{5}}};
  auto out = output_image(run("ImageFromBatch", inputs, context));
  ASSERT_EQ(out->batch, 2);
  EXPECT_FLOAT_EQ(out->data[0], code(2, 0, 0, 0));
  EXPECT_FLOAT_EQ(out->data[1], code(3, 0, 0, 0));

  inputs.values["batch_index"] = std::int64_t{99};
  out = output_image(run("ImageFromBatch", inputs, context));
  ASSERT_EQ(out->batch, 1);
  EXPECT_FLOAT_EQ(out->data[0], code(3, 0, 0, 0));

  inputs.values["batch_index"] = std::int64_t{-3};
  inputs.values["length"] = std::int64_t{1};
  out = output_image(run("ImageFromBatch", inputs, context));
  ASSERT_EQ(out->batch, 1);
  EXPECT_FLOAT_EQ(out->data[0], code(1, 0, 0, 0));

  inputs.values["batch_index"] = std::int64_t{-100};
  out = output_image(run("ImageFromBatch", inputs, context));
  EXPECT_FLOAT_EQ(out->data[0], code(0, 0, 0, 0));
}

TEST(ImageBatch, ConcatenatesSameShapes) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"image1", coded(1, 2, 2, 3)}, {"image2", coded(2, 2, 2, 3)}};
  const auto out = output_image(run("ImageBatch", inputs, context));
  ASSERT_EQ(out->batch, 3);
  EXPECT_FLOAT_EQ(at(*out, 0, 1, 1, 2), code(0, 1, 1, 2));
  EXPECT_FLOAT_EQ(at(*out, 2, 1, 0, 1), code(1, 1, 0, 1));
}

TEST(ImageBatch, AddsAlphaAndRescalesImage2) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"image1", make_image(1, 4, 4, 4, [](int, int, int, int) { return 0.2F; })},
                   {"image2", make_image(1, 2, 2, 3, [](int, int, int, int c) {
                      return 0.1F * static_cast<float>(c + 1);
                    })}};
  const auto out = output_image(run("ImageBatch", inputs, context));
  ASSERT_EQ(out->batch, 2);
  ASSERT_EQ(out->channels, 4);
  ASSERT_EQ(out->height, 4);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) {
      EXPECT_NEAR(at(*out, 1, y, x, 0), 0.1F, 1e-6);
      EXPECT_NEAR(at(*out, 1, y, x, 2), 0.3F, 1e-6);
      EXPECT_NEAR(at(*out, 1, y, x, 3), 1.0F, 1e-6);
    }
  }
}

TEST(ImageBatch, RefusesChannelCountsTwoApart) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"image1", coded(1, 2, 2, 3)}, {"image2", coded(1, 2, 2, 1)}};
  try {
    run("ImageBatch", inputs, context);
    FAIL();
  } catch (const engine::node_error& error) {
    EXPECT_EQ(error.exception_type(), "RuntimeError");
  }
}

}  // namespace
}  // namespace comfydist::nodes::test
