// ImageUpscaleWithModel over a fake compiled network: scaling and value ranges, tiling with
// progress per tile, tile halving on memory limits and bad_alloc, interrupts, bad inputs.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <new>
#include <utility>
#include <vector>

#include "node_test_util.hpp"
#include "nodes/upscale/tiled_scale.hpp"
#include "nodes/upscale/upscale_model.hpp"

namespace comfydist::nodes::test {
namespace {

// Nearest-neighbour upscaling by `scale` of values in the network's range, with hooks for the
// memory estimate and failures.
class fake_network : public nn::compiled_network {
 public:
  int scale = 4;
  float gain = 1.0F;
  std::function<std::size_t(int, int)> estimate = [](int, int) { return std::size_t{1}; };
  std::function<void(const nn::host_tensor&)> before_run;
  std::vector<nn::tensor_shape> runs;

  nn::host_tensor run(const nn::host_tensor& in) override {
    if (before_run) {
      before_run(in);
    }
    runs.push_back(in.shape);
    nn::host_tensor out(nn::tensor_shape{1, in.shape.c, in.shape.h * scale, in.shape.w * scale});
    for (int c = 0; c < in.shape.c; ++c) {
      for (int y = 0; y < out.shape.h; ++y) {
        for (int x = 0; x < out.shape.w; ++x) {
          out.data[(static_cast<std::size_t>(c) * out.shape.h + y) * out.shape.w + x] =
              gain * in.data[(static_cast<std::size_t>(c) * in.shape.h + y / scale) * in.shape.w +
                             x / scale];
        }
      }
    }
    return out;
  }
  std::size_t estimate_peak_bytes(int height, int width) const override {
    return estimate(height, width);
  }
  std::size_t last_peak_bytes() const override { return 0; }
  std::size_t weight_bytes() const override { return 1000; }
};

struct fake_model {
  std::shared_ptr<const engine::opaque_value> value;
  fake_network* network = nullptr;
};

// A model in the 0..255 convention of the TF.js packages, so that the multiplier and divisor are
// exercised.
fake_model make_model(int scale, int channels = 3) {
  auto graph = std::make_shared<nn::graph>();
  graph->scale = scale;
  graph->input_channels = channels;
  graph->output_channels = channels;
  graph->input_multiplier = 255.0F;
  graph->output_divisor = 255.0F;
  auto model = std::make_shared<upscale_model>();
  model->name = "fake-x" + std::to_string(scale);
  model->graph = graph;
  auto network = std::make_unique<fake_network>();
  network->scale = scale;
  fake_model result;
  result.network = network.get();
  model->network = std::move(network);
  result.value = make_upscale_model_value(model);
  return result;
}

class recording_context : public test_context {
 public:
  std::vector<std::pair<std::int64_t, std::int64_t>> updates;
  void progress(std::int64_t value, std::int64_t max) override {
    updates.emplace_back(value, max);
    test_context::progress(value, max);
  }
};

engine::node_inputs upscale_inputs(const fake_model& model, engine::image_ptr image) {
  engine::node_inputs inputs;
  inputs.values = {{"upscale_model", model.value}, {"image", std::move(image)}};
  return inputs;
}

float pixel(int b, int y, int x, int c) {
  return static_cast<float>((b * 5 + y * 3 + x * 7 + c * 11) % 256) / 255.0F;
}

void expect_nearest(const engine::image_tensor& in, const engine::image_tensor& out, int scale) {
  ASSERT_EQ(out.batch, in.batch);
  ASSERT_EQ(out.height, in.height * scale);
  ASSERT_EQ(out.width, in.width * scale);
  ASSERT_EQ(out.channels, in.channels);
  for (int b = 0; b < out.batch; ++b) {
    for (int y = 0; y < out.height; ++y) {
      for (int x = 0; x < out.width; ++x) {
        for (int c = 0; c < out.channels; ++c) {
          ASSERT_NEAR(at(out, b, y, x, c), at(in, b, y / scale, x / scale, c), 1e-6)
              << b << " " << y << " " << x << " " << c;
        }
      }
    }
  }
}

std::string error_type_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const engine::node_error& error) {
    if (message != nullptr) {
      *message = error.what();
    }
    return error.exception_type();
  }
  return "no error";
}

TEST(ImageUpscaleWithModel, SmallBatchIsOneTilePerImage) {
  const fake_model model = make_model(4);
  recording_context context;
  const auto image = make_image(2, 5, 7, 3, pixel);
  const auto out =
      output_image(run("ImageUpscaleWithModel", upscale_inputs(model, image), context));
  expect_nearest(*image, *out, 4);
  EXPECT_EQ(model.network->runs.size(), 2U);
  EXPECT_EQ(context.updates, (std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 2}, {2, 2}}));
}

TEST(ImageUpscaleWithModel, OnePixelImage) {
  const fake_model model = make_model(4);
  recording_context context;
  const auto image = make_image(1, 1, 1, 3, pixel);
  const auto out =
      output_image(run("ImageUpscaleWithModel", upscale_inputs(model, image), context));
  expect_nearest(*image, *out, 4);
}

TEST(ImageUpscaleWithModel, LargeImageIsTiledWithProgressPerTile) {
  const fake_model model = make_model(2);
  recording_context context;
  const auto image = make_image(1, 600, 600, 3, pixel);
  const auto out =
      output_image(run("ImageUpscaleWithModel", upscale_inputs(model, image), context));
  expect_nearest(*image, *out, 2);
  ASSERT_EQ(model.network->runs.size(), 4U);
  EXPECT_EQ(model.network->runs[0], (nn::tensor_shape{1, 3, 512, 512}));
  EXPECT_EQ(model.network->runs[3], (nn::tensor_shape{1, 3, 120, 120}));
  EXPECT_EQ(context.updates,
            (std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 4}, {2, 4}, {3, 4}, {4, 4}}));
}

TEST(ImageUpscaleWithModel, ClampsToTheUnitRange) {
  const fake_model model = make_model(2);
  model.network->gain = 3.0F;
  recording_context context;
  const auto image =
      make_image(1, 3, 3, 3, [](int, int y, int, int) { return y == 0 ? 0.5F : 0.1F; });
  const auto out =
      output_image(run("ImageUpscaleWithModel", upscale_inputs(model, image), context));
  EXPECT_FLOAT_EQ(at(*out, 0, 0, 0, 0), 1.0F);
  EXPECT_NEAR(at(*out, 0, 5, 5, 2), 0.3F, 1e-6);
}

TEST(ImageUpscaleWithModel, HalvesTilesOverTheMemoryEstimate) {
  const fake_model model = make_model(2);
  model.network->estimate = [](int h, int w) {
    return h > 256 || w > 256 ? std::numeric_limits<std::size_t>::max() : std::size_t{1};
  };
  recording_context context;
  const auto image = make_image(1, 600, 600, 3, pixel);
  const auto out =
      output_image(run("ImageUpscaleWithModel", upscale_inputs(model, image), context));
  expect_nearest(*image, *out, 2);
  // 512 was refused before running; 256 with overlap 32 gives 3×3 tiles.
  EXPECT_EQ(model.network->runs.size(), 9U);
  EXPECT_EQ(context.updates.back(), (std::pair<std::int64_t, std::int64_t>{9, 9}));
}

TEST(ImageUpscaleWithModel, HalvesTilesOnBadAlloc) {
  const fake_model model = make_model(2);
  model.network->before_run = [](const nn::host_tensor& in) {
    if (in.shape.h > 128) {
      throw std::bad_alloc();
    }
  };
  recording_context context;
  const auto image = make_image(1, 300, 200, 3, pixel);
  const auto out =
      output_image(run("ImageUpscaleWithModel", upscale_inputs(model, image), context));
  expect_nearest(*image, *out, 2);
  EXPECT_EQ(context.updates.back().second, tiled_scale_steps(200, 300, 128, 128, 32));
}

TEST(ImageUpscaleWithModel, MemoryErrorBelowTheSmallestTile) {
  const fake_model model = make_model(2);
  model.network->estimate = [](int, int) { return std::numeric_limits<std::size_t>::max() / 2; };
  recording_context context;
  std::string message;
  EXPECT_EQ(error_type_of(
                [&] {
                  run("ImageUpscaleWithModel",
                      upscale_inputs(model, make_image(1, 300, 300, 3, pixel)), context);
                },
                &message),
            "MemoryError");
  EXPECT_NE(message.find("128x128"), std::string::npos) << message;
  EXPECT_TRUE(model.network->runs.empty());

  model.network->estimate = [](int, int) { return std::size_t{1}; };
  model.network->before_run = [](const nn::host_tensor&) { throw std::bad_alloc(); };
  EXPECT_EQ(error_type_of([&] {
              run("ImageUpscaleWithModel", upscale_inputs(model, make_image(1, 9, 9, 3, pixel)),
                  context);
            }),
            "MemoryError");
}

TEST(ImageUpscaleWithModel, InterruptStopsBetweenTiles) {
  const fake_model model = make_model(2);
  recording_context context;
  context.interrupt_after = 2;
  EXPECT_THROW(run("ImageUpscaleWithModel",
                   upscale_inputs(model, make_image(1, 600, 600, 3, pixel)), context),
               engine::interrupted_error);
  EXPECT_EQ(model.network->runs.size(), 3U);
}

TEST(ImageUpscaleWithModel, RefusesAChannelCountTheModelWasNotBuiltFor) {
  const fake_model model = make_model(2);
  recording_context context;
  std::string message;
  EXPECT_EQ(error_type_of(
                [&] {
                  run("ImageUpscaleWithModel", upscale_inputs(model, make_image(1, 4, 4, 4, pixel)),
                      context);
                },
                &message),
            "RuntimeError");
  EXPECT_NE(message.find("expects images with 3 channels, but got 4"), std::string::npos)
      << message;
  EXPECT_TRUE(model.network->runs.empty());
}

TEST(ImageUpscaleWithModel, RefusesOtherOpaqueValues) {
  auto other = std::make_shared<engine::opaque_value>();
  other->type = "VAE";
  engine::node_inputs inputs;
  inputs.values = {{"upscale_model", std::shared_ptr<const engine::opaque_value>(other)},
                   {"image", make_image(1, 2, 2, 3, pixel)}};
  recording_context context;
  EXPECT_EQ(error_type_of([&] { run("ImageUpscaleWithModel", inputs, context); }), "TypeError");
}

TEST(ImageUpscaleWithModel, ModelValueCountsWeights) {
  const fake_model model = make_model(2);
  EXPECT_EQ(model.value->type, "UPSCALE_MODEL");
  EXPECT_EQ(model.value->byte_size, 1000U);
}

}  // namespace
}  // namespace comfydist::nodes::test
