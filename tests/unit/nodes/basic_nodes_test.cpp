// EmptyImage, ImageInvert, the primitives, the size limit and the registered schemas.
#include <gtest/gtest.h>

#include <fstream>

#include "common/file_io.hpp"
#include "node_test_util.hpp"
#include "nodes/limits.hpp"

namespace comfydist::nodes::test {
namespace {

TEST(EmptyImage, FillsWithTheColour) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"width", std::int64_t{3}},
                   {"height", std::int64_t{2}},
                   {"batch_size", std::int64_t{2}},
                   {"color", std::int64_t{0xFF8001}}};
  const auto image = output_image(run("EmptyImage", inputs, context));
  ASSERT_EQ(image->batch, 2);
  ASSERT_EQ(image->height, 2);
  ASSERT_EQ(image->width, 3);
  ASSERT_EQ(image->channels, 3);
  for (std::size_t i = 0; i < image->data.size(); i += 3) {
    EXPECT_FLOAT_EQ(image->data[i], 1.0F);
    EXPECT_FLOAT_EQ(image->data[i + 1], static_cast<float>(128.0 / 255.0));
    EXPECT_FLOAT_EQ(image->data[i + 2], static_cast<float>(1.0 / 255.0));
  }
}

TEST(EmptyImage, RefusesSizesAboveTheLimit) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"width", std::int64_t{16384}},
                   {"height", std::int64_t{16384}},
                   {"batch_size", std::int64_t{4096}},
                   {"color", std::int64_t{0}}};
  try {
    run("EmptyImage", inputs, context);
    FAIL() << "expected a ValueError";
  } catch (const engine::node_error& error) {
    EXPECT_EQ(error.exception_type(), "ValueError");
    EXPECT_NE(std::string(error.what()).find("4096x16384x16384x3"), std::string::npos)
        << error.what();
  }
}

TEST(Limits, CheckTensorSize) {
  EXPECT_NO_THROW(check_tensor_size(1, 1024, 1024, 3));
  EXPECT_NO_THROW(check_tensor_size(0, 0, 0, 0));
  EXPECT_THROW(check_tensor_size(1, -1, 2, 3), engine::node_error);
  EXPECT_THROW(check_tensor_size(INT64_MAX, INT64_MAX, 2, 3), engine::node_error);
  EXPECT_THROW(check_tensor_size(1, 1 << 16, 1 << 16, 1), engine::node_error);
}

TEST(ImageInvert, SubtractsFromOne) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"image", make_image(1, 1, 2, 4, [](int, int, int x, int c) {
                      return 0.25F * static_cast<float>(c) + 0.1F * static_cast<float>(x);
                    })}};
  const auto image = output_image(run("ImageInvert", inputs, context));
  for (int x = 0; x < 2; ++x) {
    for (int c = 0; c < 4; ++c) {
      EXPECT_FLOAT_EQ(at(*image, 0, 0, x, c),
                      1.0F - (0.25F * static_cast<float>(c) + 0.1F * static_cast<float>(x)));
    }
  }
}

TEST(Primitives, PassTheValueOn) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"value", std::int64_t{-5}}};
  EXPECT_EQ(std::get<std::int64_t>(run("PrimitiveInt", inputs, context).outputs.at(0)), -5);
  inputs.values = {{"value", 2.5}};
  EXPECT_DOUBLE_EQ(std::get<double>(run("PrimitiveFloat", inputs, context).outputs.at(0)), 2.5);
  inputs.values = {{"value", std::int64_t{3}}};
  EXPECT_DOUBLE_EQ(std::get<double>(run("PrimitiveFloat", inputs, context).outputs.at(0)), 3.0);
  inputs.values = {{"value", std::string("hi")}};
  EXPECT_EQ(std::get<std::string>(run("PrimitiveString", inputs, context).outputs.at(0)), "hi");
  EXPECT_EQ(std::get<std::string>(run("PrimitiveStringMultiline", inputs, context).outputs.at(0)),
            "hi");
  inputs.values = {{"value", true}};
  EXPECT_TRUE(std::get<bool>(run("PrimitiveBoolean", inputs, context).outputs.at(0)));
}

// Every schema is the object_info entry ComfyUI v0.26 served (the capture lives beside the
// repository; the test is skipped where it is absent).
TEST(Schemas, MatchTheCapturedObjectInfo) {
  const fs::path capture = fs::path(COMFYDIST_SOURCE_DIR) /
                           "../shared/reference/comfyui-captures/02e_object_info_all.json";
  if (!fs::exists(capture)) {
    GTEST_SKIP() << "no capture at " << capture;
  }
  const json body = json::parse(read_file(capture))["body"];
  temp_folders folders;
  const json served = registry().object_info(folders.environment());
  for (const auto& [name, info] : served.items()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(body.contains(name));
    json expected = body[name];
    if (name == "ImageAddNoise") {
      EXPECT_NE(info["description"].get<std::string>().find("not bit-identical"),
                std::string::npos);
      expected["description"] = info["description"];
    }
    if (name == "LoadImage") {
      expected["input"]["required"]["image"][0] = json::array();
    }
    if (name == "UpscaleModelLoader") {
      expected["input"]["required"]["model_name"][1]["options"] = json::array();
    }
    EXPECT_EQ(info.dump(), expected.dump());
  }
  EXPECT_EQ(served.size(), 23U);
}

}  // namespace
}  // namespace comfydist::nodes::test
