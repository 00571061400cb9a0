// The TF.js layers-model loader on small synthetic models: every layer type, weights split across
// shards, and each kind of broken or hostile file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "nn/reference_ops.hpp"
#include "nn/tfjs/tfjs_loader.hpp"

namespace comfydist::nn {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json layer(const std::string& type, const std::string& name, std::vector<std::string> inputs,
           json config = json::object()) {
  config["name"] = name;
  json refs = json::array();
  for (const auto& in : inputs) {
    refs.push_back(json::array({in, 0, 0, json::object()}));
  }
  return {{"class_name", type},
          {"name", name},
          {"config", config},
          {"inbound_nodes", inputs.empty() ? json::array() : json::array({refs})}};
}

json conv(const std::string& name, const std::string& in, int filters, int k,
          const std::string& padding, const std::string& activation = "linear") {
  return layer("Conv2D", name, {in},
               {{"filters", filters},
                {"kernel_size", {k, k}},
                {"strides", {1, 1}},
                {"padding", padding},
                {"dilation_rate", {1, 1}},
                {"activation", activation},
                {"use_bias", true}});
}

class TfjsLoader : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cd-tfjs-" + std::to_string(std::random_device{}()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "model");
    layers_ = json::array(
        {layer("InputLayer", "in", {}, {{"batch_input_shape", {nullptr, nullptr, nullptr, 3}}}),
         conv("c1", "in", 4, 3, "same", "relu"), conv("c2", "c1", 4, 1, "valid"),
         layer("Concatenate", "cat", {"c1", "c2"}, {{"axis", -1}}), conv("c3", "cat", 4, 5, "same"),
         layer("MultiplyBeta", "beta", {"c3"}), layer("Add", "sum", {"c1", "beta"}),
         layer("Activation", "act", {"sum"}, {{"activation", "relu"}}),
         layer("UpSampling2D", "up", {"act"}, {{"size", {2, 2}}}), conv("c4", "up", 12, 3, "same"),
         layer("PixelShuffle2x", "ps", {"c4"})});
    // Alphabetical order, like the converter.
    weights_ = {
        {"c1", {3, 3, 3, 4}}, {"c2", {1, 1, 4, 4}}, {"c3", {5, 5, 8, 4}}, {"c4", {3, 3, 4, 12}}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes model.json and the weights split into two shards at an odd byte offset.
  fs::path write(const std::vector<std::string>& paths = {"s1.bin", "s2.bin"}, long truncate = 0) {
    json manifest = json::array();
    json entries = json::array();
    std::vector<float> values;
    for (const auto& [name, shape] : weights_) {
      std::size_t n = 1;
      for (const int d : shape) {
        n *= static_cast<std::size_t>(d);
      }
      entries.push_back({{"name", name + "/kernel"}, {"shape", shape}, {"dtype", "float32"}});
      entries.push_back(
          {{"name", name + "/bias"}, {"shape", {shape.back()}}, {"dtype", "float32"}});
      for (std::size_t i = 0; i < n + static_cast<std::size_t>(shape.back()); ++i) {
        values.push_back(static_cast<float>((values.size() * 37) % 101) / 101.0F - 0.5F);
      }
    }
    manifest.push_back({{"paths", paths}, {"weights", entries}});
    json doc = {{"format", "layers-model"},
                {"modelTopology",
                 {{"model_config",
                   {{"class_name", "Functional"},
                    {"config",
                     {{"name", "m"},
                      {"layers", layers_},
                      {"input_layers", {{"in", 0, 0}}},
                      {"output_layers", {{layers_.back()["name"], 0, 0}}}}}}}}},
                {"weightsManifest", manifest}};
    std::ofstream(dir_ / "model" / "model.json") << doc.dump();
    const std::size_t bytes = values.size() * sizeof(float) - static_cast<std::size_t>(truncate);
    const std::size_t split = 1001;
    std::ofstream(dir_ / "model" / "s1.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(values.data()), split);
    std::ofstream(dir_ / "model" / "s2.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(values.data()) + split,
               static_cast<std::streamsize>(bytes - split));
    first_kernel_ = {values[0], values[1]};
    return dir_ / "model" / "model.json";
  }

  void expect_error(const fs::path& path, const std::string& fragment) {
    try {
      (void)load_tfjs_model(path);
      FAIL() << "expected an error containing '" << fragment << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  }

  fs::path dir_;
  json layers_;
  std::vector<std::pair<std::string, std::vector<int>>> weights_;
  std::vector<float> first_kernel_;
};

TEST_F(TfjsLoader, ReadsEveryLayerType) {
  const auto g = load_tfjs_model(write());
  EXPECT_EQ(g->architecture, "RRDN (TF.js)");
  EXPECT_EQ(g->scale, 4);
  EXPECT_EQ(g->output_channels, 3);
  EXPECT_EQ(g->input_multiplier, 1.0F);
  const graph_node& c1 = g->nodes[1];
  ASSERT_EQ(c1.kind, op_kind::conv2d);
  EXPECT_EQ(g->nodes[2].kind, op_kind::relu);  // the conv's own activation
  // HWIO → OIHW: kernel[0][0][0][0] and kernel[0][0][0][1] are o=0 and o=1 of i=0, y=x=0.
  EXPECT_EQ(c1.conv.weights[0], first_kernel_[0]);
  EXPECT_EQ(c1.conv.weights[static_cast<std::size_t>(3 * 3 * 3)], first_kernel_[1]);
  bool saw_shuffle = false;
  for (const graph_node& n : g->nodes) {
    if (n.name == "c3") {
      EXPECT_EQ(n.conv.pad_top, 2);
      EXPECT_EQ(n.conv.pad_bottom, 2);
    }
    if (n.name == "beta") {
      EXPECT_EQ(n.kind, op_kind::scale);
      EXPECT_FLOAT_EQ(n.alpha, 0.2F);
    }
    if (n.kind == op_kind::pixel_shuffle) {
      saw_shuffle = true;
      EXPECT_EQ(n.order, shuffle_order::dcr);
    }
  }
  EXPECT_TRUE(saw_shuffle);
  const host_tensor out = reference::run_graph(*g, host_tensor({1, 3, 4, 5}, 0.5F));
  EXPECT_EQ(out.shape, (tensor_shape{1, 3, 16, 20}));
}

TEST_F(TfjsLoader, RdnWithoutCustomLayersUses0To255) {
  layers_.erase(layers_.size() - 1);
  layers_[5] = layer("Activation", "beta", {"c3"}, {{"activation", "linear"}});
  layers_.push_back(conv("c5", "c4", 3, 3, "same"));
  weights_.push_back({"c5", {3, 3, 12, 3}});
  const auto g = load_tfjs_model(write());
  EXPECT_EQ(g->architecture, "RDN (TF.js)");
  EXPECT_EQ(g->input_multiplier, 255.0F);
  EXPECT_EQ(g->output_divisor, 255.0F);
  EXPECT_EQ(g->scale, 2);
}

TEST_F(TfjsLoader, UnknownLayerType) {
  layers_[7] = layer("Lambda", "act", {"sum"});
  expect_error(write(), "model.json: layer 'act' has unsupported type 'Lambda'");
}

TEST_F(TfjsLoader, UnsupportedActivation) {
  layers_[7]["config"]["activation"] = "tanh";
  expect_error(write(), "unsupported activation 'tanh'");
}

TEST_F(TfjsLoader, TruncatedShard) {
  expect_error(write({"s1.bin", "s2.bin"}, 10), "truncated");
}

TEST_F(TfjsLoader, MissingShard) {
  expect_error(write({"s1.bin", "s2.bin", "s3.bin"}), "weight shard 's3.bin' is missing");
}

TEST_F(TfjsLoader, PathEscape) {
  expect_error(write({"s1.bin", "../model/s2.bin"}), "leaves the model folder");
  expect_error(write({"s1.bin", "/etc/passwd"}), "leaves the model folder");
}

TEST_F(TfjsLoader, WrongWeightShape) {
  weights_[1].second = {1, 1, 4, 5};
  expect_error(write(), "layer 'c2' kernel has shape [1, 1, 4, 5], expected [1, 1, 4, 4]");
}

TEST_F(TfjsLoader, HostileJson) {
  const fs::path p = write();
  const auto put = [&](const std::string& text) { std::ofstream(p, std::ios::trunc) << text; };
  put("{\"modelTopology\": 5");
  expect_error(p, "not valid JSON");
  put("[1, 2]");
  expect_error(p, "modelTopology");
  put("{\"modelTopology\": {\"class_name\": 7}}");
  expect_error(p, "model.json");
  put(R"({"modelTopology": {"class_name": "Functional", "config": {"layers": [{"class_name":
      "Conv2D", "name": "x", "config": {"filters": 1e9}, "inbound_nodes": [[["y", 0, 0]]]}]}},
      "weightsManifest": []})");
  expect_error(p, "model.json");
  put(R"({"modelTopology": {"class_name": "Functional", "config": {"layers": [{"class_name":
      "InputLayer", "name": "in", "inbound_nodes": []}]}},
      "weightsManifest": [{"paths": [], "weights": [{"name": "a", "shape": [-1]}]}]})");
  expect_error(p, "invalid dimension");
  expect_error(dir_ / "nope.json", "not found");
}

TEST_F(TfjsLoader, CycleOrUndefinedInput) {
  layers_[2] = conv("c2", "ghost", 4, 1, "valid");
  expect_error(write(), "not defined");
}

}  // namespace
}  // namespace comfydist::nn
