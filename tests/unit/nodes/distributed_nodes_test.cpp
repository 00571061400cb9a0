// ComfyUI-Distributed's nodes, the master's gather node and DebugDelay: their schemas, which
// registration offers which node, and what each does when executed directly.
#include <gtest/gtest.h>

#include <chrono>

#include "common/file_io.hpp"
#include "image/codecs.hpp"
#include "node_test_util.hpp"
#include "nodes/distributed_nodes.hpp"

namespace comfydist::nodes::test {
namespace {

const engine::node_registry& all_nodes() {
  static const engine::node_registry instance = [] {
    engine::node_registry r;
    register_distributed_nodes(r);
    register_master_nodes(r);
    register_test_nodes(r);
    return r;
  }();
  return instance;
}

const json& info_of(const std::string& name) {
  const engine::node_definition* found = all_nodes().find(name);
  if (found == nullptr) {
    throw std::runtime_error("node not registered: " + name);
  }
  return found->info;
}

engine::node_result execute(const std::string& name, engine::node_inputs inputs,
                            engine::node_context& context) {
  return all_nodes().find(name)->create()->execute(inputs, context);
}

engine::image_ptr frames(int batch) {
  return make_image(batch, 2, 3, 3, [](int b, int y, int x, int c) {
    return static_cast<float>(b * 100 + y * 10 + x) + static_cast<float>(c) / 10.0F;
  });
}

TEST(DistributedRegistration, EachFunctionOffersItsOwnSet) {
  engine::node_registry worker;
  register_builtin_nodes(worker);
  register_distributed_nodes(worker);
  for (const char* name :
       {"DistributedSeed", "DistributedCollector", "DistributedValue", "ImageBatchDivider"}) {
    EXPECT_NE(worker.find(name), nullptr) << name;
  }
  EXPECT_EQ(worker.find("DistributedGatheredImages"), nullptr);
  EXPECT_EQ(worker.find("DistributedSaveBlended"), nullptr);  // reads the master's temp folder
  EXPECT_EQ(worker.find("DebugDelay"), nullptr);

  engine::node_registry master;
  register_master_nodes(master);
  EXPECT_EQ(master.all().size(), 2U);
  EXPECT_NE(master.find("DistributedGatheredImages"), nullptr);
  EXPECT_NE(master.find("DistributedSaveBlended"), nullptr);

  engine::node_registry testing;
  register_test_nodes(testing);
  EXPECT_EQ(testing.all().size(), 1U);
  EXPECT_NE(testing.find("DebugDelay"), nullptr);
}

TEST(DistributedSchemas, SeedDeclaresItsRangeAndHiddenInputs) {
  const json& info = info_of("DistributedSeed");
  EXPECT_EQ(info["category"], "utils");
  EXPECT_EQ(info["display_name"], "Distributed Seed");
  const json& seed = info["input"]["required"]["seed"];
  EXPECT_EQ(seed[0], "INT");
  EXPECT_EQ(seed[1]["default"], 1125899906842);
  EXPECT_EQ(seed[1]["min"], 0);
  EXPECT_EQ(seed[1]["max"], 1125899906842624);
  EXPECT_EQ(info["input"]["hidden"]["is_worker"][0], "BOOLEAN");
  EXPECT_EQ(info["input"]["hidden"]["worker_id"][0], "STRING");
  EXPECT_EQ(info["input_order"]["hidden"], json::array({"is_worker", "worker_id"}));
  EXPECT_EQ(info["output"], json::array({"INT"}));
  EXPECT_EQ(info["output_name"], json::array({"seed"}));
}

TEST(DistributedSchemas, CollectorTakesImagesAndLoadBalance) {
  const json& info = info_of("DistributedCollector");
  EXPECT_EQ(info["category"], "image");
  EXPECT_EQ(info["input"]["required"]["images"][0], "IMAGE");
  const json& balance = info["input"]["required"]["load_balance"];
  EXPECT_EQ(balance[0], "BOOLEAN");
  EXPECT_EQ(balance[1]["default"], false);
  EXPECT_EQ(balance[1]["tooltip"], "Run this workflow on one least-busy worker.");
  EXPECT_EQ(info["output"], json::array({"IMAGE"}));
  EXPECT_EQ(info["output_name"], json::array({"images"}));
  EXPECT_FALSE(info["output_node"].get<bool>());
}

TEST(DistributedSchemas, ValueOutputsAnyType) {
  const json& info = info_of("DistributedValue");
  EXPECT_EQ(info["category"], "utils");
  EXPECT_EQ(info["input"]["required"]["default_value"][1]["default"], "");
  EXPECT_EQ(info["input"]["required"]["worker_values"][1]["default"], "{}");
  EXPECT_EQ(info["output"], json::array({"*"}));
  EXPECT_EQ(info["output_name"], json::array({"value"}));
}

TEST(DistributedSchemas, DividerHasTenImageOutputsAndIsAnOutputNode) {
  const json& info = info_of("ImageBatchDivider");
  EXPECT_EQ(info["category"], "image");
  const json& divide_by = info["input"]["required"]["divide_by"];
  EXPECT_EQ(divide_by[1]["default"], 2);
  EXPECT_EQ(divide_by[1]["min"], 1);
  EXPECT_EQ(divide_by[1]["max"], 10);
  ASSERT_EQ(info["output"].size(), 10U);
  EXPECT_EQ(info["output"][9], "IMAGE");
  EXPECT_EQ(info["output_name"][0], "batch_1");
  EXPECT_EQ(info["output_name"][9], "batch_10");
  EXPECT_EQ(info["output_is_list"].size(), 10U);
  EXPECT_TRUE(info["output_node"].get<bool>());
}

TEST(DistributedSchemas, GatherAndDelayInputs) {
  const json& gather = info_of("DistributedGatheredImages");
  EXPECT_EQ(gather["input"]["required"]["files"][0], "STRING");
  EXPECT_EQ(gather["output"], json::array({"IMAGE"}));
  EXPECT_FALSE(gather["output_node"].get<bool>());

  const json& delay = info_of("DebugDelay");
  EXPECT_EQ(delay["category"], "testing");
  EXPECT_EQ(delay["input_order"]["required"], json::array({"images", "milliseconds", "seed"}));
  EXPECT_EQ(delay["input"]["required"]["milliseconds"][1]["default"], 1000);
  EXPECT_EQ(delay["input"]["required"]["milliseconds"][1]["max"], 600000);
  EXPECT_EQ(delay["input"]["required"]["seed"][1]["max"], 1125899906842624);
  EXPECT_EQ(delay["output"], json::array({"IMAGE"}));
}

TEST(DistributedNodes, SeedAndCollectorPassTheirInputThrough) {
  test_context context;
  engine::node_inputs seed;
  seed.values = {
      {"seed", std::int64_t{42}}, {"is_worker", true}, {"worker_id", std::string("worker_1")}};
  EXPECT_EQ(std::get<std::int64_t>(execute("DistributedSeed", seed, context).outputs.at(0)), 42);

  const engine::image_ptr images = frames(3);
  engine::node_inputs collect;
  collect.values = {{"images", images}, {"load_balance", true}};
  EXPECT_EQ(output_image(execute("DistributedCollector", collect, context)), images);
}

engine::node_value value_of(const std::string& value, const std::string& worker_values) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"default_value", value}, {"worker_values", worker_values}};
  return execute("DistributedValue", inputs, context).outputs.at(0);
}

TEST(DistributedNodes, ValueCoercesTheDefaultToTheDeclaredType) {
  EXPECT_EQ(std::get<std::int64_t>(value_of(" 7.9 ", R"({"_type": "INT"})")), 7);
  EXPECT_EQ(std::get<std::int64_t>(value_of("-2.5", R"({"_type": "INT", "1": "3"})")), -2);
  EXPECT_DOUBLE_EQ(std::get<double>(value_of("1e-3", R"({"_type": "FLOAT"})")), 0.001);
  EXPECT_EQ(std::get<std::string>(value_of("euler", R"({"_type": "COMBO", "_options": []})")),
            "euler");
  EXPECT_EQ(std::get<std::string>(value_of("12", "{}")), "12");
  EXPECT_EQ(std::get<std::string>(value_of("12", "")), "12");
}

void expect_value_error(const std::string& value, const std::string& worker_values,
                        const std::string& fragment) {
  try {
    value_of(value, worker_values);
    ADD_FAILURE() << "no error for " << value << " / " << worker_values;
  } catch (const engine::node_error& ex) {
    EXPECT_NE(std::string(ex.what()).find(fragment), std::string::npos) << ex.what();
  }
}

TEST(DistributedNodes, ValueRefusesBadJsonAndUnconvertibleText) {
  expect_value_error("1", "{\"_type\": ", "worker_values is not valid JSON");
  expect_value_error("1", "[1, 2]", "must be a JSON object");
  expect_value_error("1", R"({"_type": 3})", "_type");
  expect_value_error("abc", R"({"_type": "INT"})", "could not convert string to float: 'abc'");
  expect_value_error("0x10", R"({"_type": "FLOAT"})", "could not convert");
  expect_value_error("nan", R"({"_type": "INT"})", "NaN");
  expect_value_error("1e30", R"({"_type": "INT"})", "64-bit");
}

std::vector<int> chunk_sizes(int batch, int divide_by) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"images", frames(batch)}, {"divide_by", std::int64_t{divide_by}}};
  const auto result = execute("ImageBatchDivider", inputs, context);
  std::vector<int> sizes;
  for (std::size_t i = 0; i < result.outputs.size(); ++i) {
    const auto chunk = output_image(result, i);
    EXPECT_EQ(chunk->height, 2);
    EXPECT_EQ(chunk->width, 3);
    EXPECT_EQ(chunk->channels, 3);
    sizes.push_back(chunk->batch);
  }
  return sizes;
}

TEST(DistributedNodes, DividerGivesContiguousChunksLongestFirst) {
  test_context context;
  engine::node_inputs inputs;
  inputs.values = {{"images", frames(7)}, {"divide_by", std::int64_t{3}}};
  const auto result = execute("ImageBatchDivider", inputs, context);
  ASSERT_EQ(result.outputs.size(), 10U);
  const std::vector<int> expected_batches = {3, 2, 2, 0, 0, 0, 0, 0, 0, 0};
  int frame = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    const auto chunk = output_image(result, i);
    ASSERT_EQ(chunk->batch, expected_batches[i]) << i;
    for (int b = 0; b < chunk->batch; ++b, ++frame) {
      EXPECT_FLOAT_EQ(at(*chunk, b, 1, 2, 1), static_cast<float>(frame * 100 + 12) + 0.1F);
    }
  }
  EXPECT_EQ(frame, 7);
  EXPECT_EQ(chunk_sizes(2, 3), (std::vector<int>{1, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(chunk_sizes(10, 10), std::vector<int>(10, 1));
  EXPECT_EQ(chunk_sizes(5, 1), (std::vector<int>{5, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

class GatheredImagesTest : public ::testing::Test {
 protected:
  GatheredImagesTest() { context_.env = folders_.environment(); }

  void write_png(const std::string& name, int width, int height, std::uint8_t value,
                 int channels = 3) {
    image::pixel_image pixels{width, height, channels, {}};
    pixels.pixels.assign(pixels.byte_size(), value);
    const fs::path path = context_.env.temp_dir / name;
    fs::create_directories(path.parent_path());
    write_file_atomic(path, image::encode_png(pixels, 1));
  }

  engine::node_result gather(const json& files) {
    engine::node_inputs inputs;
    inputs.values = {{"files", files.is_string() ? files.get<std::string>() : files.dump()}};
    return execute("DistributedGatheredImages", inputs, context_);
  }

  std::string error_of(const json& files) {
    try {
      gather(files);
    } catch (const engine::node_error& ex) {
      return ex.what();
    }
    return "no error";
  }

  temp_folders folders_;
  test_context context_;
};

TEST_F(GatheredImagesTest, LoadsTheFilesInListOrder) {
  write_png("job/unit_b.png", 4, 2, 200);
  write_png("unit_a.png", 4, 2, 51, 1);
  const auto images = output_image(gather(json::array({"job/unit_b.png", "unit_a.png"})));
  ASSERT_EQ(images->batch, 2);
  ASSERT_EQ(images->height, 2);
  ASSERT_EQ(images->width, 4);
  ASSERT_EQ(images->channels, 3);
  EXPECT_FLOAT_EQ(at(*images, 0, 1, 3, 2), 200.0F / 255.0F);
  EXPECT_FLOAT_EQ(at(*images, 1, 0, 0, 0), 51.0F / 255.0F);
  EXPECT_FLOAT_EQ(at(*images, 1, 1, 2, 2), 51.0F / 255.0F);
}

TEST_F(GatheredImagesTest, RefusesMixedSizesNamingBoth) {
  write_png("a.png", 4, 2, 10);
  write_png("b.png", 3, 5, 10);
  const std::string error = error_of(json::array({"a.png", "b.png"}));
  EXPECT_NE(error.find("3x5"), std::string::npos) << error;
  EXPECT_NE(error.find("4x2"), std::string::npos) << error;
}

TEST_F(GatheredImagesTest, RefusesNamesOutsideTempAndBadLists) {
  write_png("a.png", 4, 2, 10);
  write_file_atomic(folders_.root() / "x.png", read_file(context_.env.temp_dir / "a.png"));
  EXPECT_NE(error_of(json::array({"../x.png"})).find("leaves the temp folder"), std::string::npos);
  EXPECT_NE(error_of(json::array({(folders_.root() / "x.png").string()})).find("leaves"),
            std::string::npos);
  EXPECT_NE(error_of(json::array({"missing.png"})).find("not found"), std::string::npos);
  EXPECT_NE(error_of(json("[\"a.png\"")).find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(json::array({1})).find("must be strings"), std::string::npos);
  EXPECT_NE(error_of(json::array()).find("no images"), std::string::npos);
}

using steady = std::chrono::steady_clock;

TEST(DebugDelay, SleepsMillisecondsTimesTheScaleAndPassesImagesOn) {
  test_context context;
  context.env.debug_delay_scale = 4.0;
  const engine::image_ptr images = frames(1);
  engine::node_inputs inputs;
  inputs.values = {
      {"images", images}, {"milliseconds", std::int64_t{30}}, {"seed", std::int64_t{5}}};
  const auto start = steady::now();
  const auto result = execute("DebugDelay", inputs, context);
  EXPECT_GE(steady::now() - start, std::chrono::milliseconds(120));
  EXPECT_EQ(output_image(result), images);
  // 120 ms in steps of at most 50 ms: three progress reports, each checking for an interrupt.
  EXPECT_EQ(context.interrupt_checks, 3);

  test_context doubled;
  doubled.env.debug_delay_scale = 2.0;
  inputs.values["milliseconds"] = std::int64_t{10};
  const auto again = steady::now();
  execute("DebugDelay", inputs, doubled);
  EXPECT_GE(steady::now() - again, std::chrono::milliseconds(20));
}

TEST(DebugDelay, StopsWithinAStepOfAnInterrupt) {
  test_context context;
  context.interrupt_after = 2;
  engine::node_inputs inputs;
  inputs.values = {
      {"images", frames(1)}, {"milliseconds", std::int64_t{600000}}, {"seed", std::int64_t{0}}};
  const auto start = steady::now();
  EXPECT_THROW(execute("DebugDelay", inputs, context), engine::interrupted_error);
  // Three 50 ms steps; the bound only rules out sleeping through the interrupt.
  EXPECT_LT(steady::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(context.interrupt_checks, 3);
}

}  // namespace
}  // namespace comfydist::nodes::test
