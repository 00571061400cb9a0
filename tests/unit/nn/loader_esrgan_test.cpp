// Architecture detection and graph building for ESRGAN-family checkpoints, checked against
// PyTorch's outputs for the small random-weight fixtures (tests/fixtures/upscale).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "loader_test_support.hpp"
#include "nn/backend.hpp"
#include "nn/esrgan/upscale_architecture.hpp"
#include "nn/pth/pth_reader.hpp"
#include "nn/safetensors/safetensors_reader.hpp"

namespace comfydist::nn {
namespace {

using loader_test::fixture;

struct model_case {
  const char* stem;
  const char* architecture;
  int scale;
};

constexpr model_case models[] = {
    {"rrdb_new_x4", "RRDBNet", 4},
    {"rrdb_old_x4", "RRDBNet", 4},
    {"compact_x4", "SRVGGNetCompact", 4},
    {"compact_x2", "SRVGGNetCompact", 2},
};

std::string build_message(state_dict sd) {
  try {
    build_upscale_graph(std::move(sd));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(LoaderEsrgan, MatchesPyTorchForEveryFixtureAndFormat) {
  const host_tensor input = loader_test::read_f32_fixture("input_1x3x12x10");
  for (const auto& m : models) {
    const host_tensor expected = loader_test::read_f32_fixture(std::string(m.stem) + "_expected");
    for (const char* ext : {".pth", ".safetensors"}) {
      const std::string file = std::string(m.stem) + ext;
      const auto path = fixture(file);
      const auto g =
          build_upscale_graph(std::string(ext) == ".pth" ? read_pth(path) : read_safetensors(path));
      EXPECT_EQ(g->architecture, m.architecture) << file;
      EXPECT_EQ(g->scale, m.scale) << file;
      EXPECT_EQ(g->input_channels, 3) << file;
      EXPECT_EQ(g->output_channels, 3) << file;
      EXPECT_EQ(g->input_multiplier, 1.0F);
      EXPECT_EQ(g->output_divisor, 1.0F);
      const host_tensor out = loader_test::naive_run(*g, input);
      const float error = loader_test::max_abs_diff(out, expected);
      EXPECT_LE(error, 1e-3F) << file;
      RecordProperty(file + "_max_abs_error", std::to_string(error));
      std::cout << "[ info ] " << file << ": max abs error vs PyTorch " << error << "\n";
    }
  }
}

TEST(LoaderEsrgan, GraphsValidateAndRunOnTheCpuBackend) {
  const host_tensor input = loader_test::read_f32_fixture("input_1x3x12x10");
  const auto backend = make_cpu_backend(1);
  for (const auto& m : models) {
    const auto g = build_upscale_graph(read_pth(fixture(std::string(m.stem) + ".pth")));
    EXPECT_NO_THROW(validate_graph(*g)) << m.stem;
    const host_tensor out = backend->compile(g)->run(input);
    const float error = loader_test::max_abs_diff(
        out, loader_test::read_f32_fixture(std::string(m.stem) + "_expected"));
    EXPECT_LE(error, 1e-3F) << m.stem;
    std::cout << "[ info ] " << m.stem << " on " << backend->name() << ": max abs error vs PyTorch "
              << error << "\n";
  }
}

TEST(LoaderEsrgan, DetectsBlocksAndFeatures) {
  const auto g = build_upscale_graph(read_safetensors(fixture("rrdb_new_x4.safetensors")));
  int convs = 0;
  for (const auto& node : g->nodes) {
    convs += node.kind == op_kind::conv2d ? 1 : 0;
  }
  // conv_first + 2 blocks × 3 RDBs × 5 convs + conv_body + 2 upconvs + conv_hr + conv_last.
  EXPECT_EQ(convs, 1 + 2 * 3 * 5 + 1 + 2 + 1 + 1);
  EXPECT_EQ(g->nodes[1].conv.out_channels, 8);
}

TEST(LoaderEsrgan, UnknownLayoutNamesWhatWasFound) {
  state_dict sd;
  sd["encoder.weight"] = named_tensor{{1}, {0.0F}};
  sd["decoder.bias"] = named_tensor{{1}, {0.0F}};
  sd["alpha"] = named_tensor{{1}, {0.0F}};
  sd["zeta"] = named_tensor{{1}, {0.0F}};
  EXPECT_EQ(build_message(sd),
            "unsupported upscale model: found 4 tensors such as 'alpha', 'decoder.bias', "
            "'encoder.weight'; known: RRDBNet (ESRGAN/Real-ESRGAN), SRVGGNetCompact");
  EXPECT_NE(build_message({}).find("found 0 tensors"), std::string::npos);
}

TEST(LoaderEsrgan, MisshapenTensorIsNamed) {
  state_dict sd = read_safetensors(fixture("rrdb_new_x4.safetensors"));
  sd["body.1.rdb2.conv3.weight"].shape = {4, 15, 3, 3};
  const std::string message = build_message(sd);
  EXPECT_NE(message.find("'body.1.rdb2.conv3.weight' has shape [4, 15, 3, 3]"), std::string::npos)
      << message;

  sd = read_safetensors(fixture("compact_x4.safetensors"));
  sd["body.3.weight"].shape = {7};
  EXPECT_NE(build_message(sd).find("'body.3.weight' has shape [7]"), std::string::npos);

  sd = read_safetensors(fixture("compact_x4.safetensors"));
  sd["body.4.bias"].shape = {9};
  EXPECT_NE(build_message(sd).find("'body.4.bias' has shape [9]"), std::string::npos);
}

TEST(LoaderEsrgan, MissingTensorIsNamed) {
  state_dict sd = read_safetensors(fixture("rrdb_new_x4.safetensors"));
  sd.erase("conv_hr.weight");
  EXPECT_NE(build_message(sd).find("lacks tensor 'conv_hr.weight'"), std::string::npos);
  sd = read_pth(fixture("rrdb_old_x4.pth"));
  sd.erase("model.1.sub.1.RDB3.conv5.0.weight");
  EXPECT_NE(build_message(sd).find("'model.1.sub.1.RDB3.conv5.0.weight'"), std::string::npos);
}

TEST(LoaderEsrgan, RefusesUnsupportedVariantsClearly) {
  // Real-ESRGAN x2: conv_first takes a pixel-unshuffled 12-channel input.
  state_dict sd = read_safetensors(fixture("rrdb_new_x4.safetensors"));
  sd["conv_first.weight"] = named_tensor{{8, 12, 3, 3}, std::vector<float>(8 * 12 * 9)};
  EXPECT_NE(build_message(sd).find("pixel-unshuffled input"), std::string::npos);
  // SRVGGNetCompact whose last conv does not give 3 × scale² channels.
  sd = read_safetensors(fixture("compact_x4.safetensors"));
  sd["body.10.weight"] = named_tensor{{47, 8, 3, 3}, std::vector<float>(47 * 8 * 9)};
  sd["body.10.bias"] = named_tensor{{47}, std::vector<float>(47)};
  EXPECT_NE(build_message(sd).find("has 47 output channels"), std::string::npos);
}

TEST(LoaderEsrgan, StripsSharedModulePrefix) {
  state_dict sd = read_safetensors(fixture("compact_x2.safetensors"));
  state_dict prefixed;
  for (auto& [key, tensor] : sd) {
    prefixed["module." + key] = std::move(tensor);
  }
  EXPECT_EQ(build_upscale_graph(std::move(prefixed))->architecture, "SRVGGNetCompact");
}

}  // namespace
}  // namespace comfydist::nn
