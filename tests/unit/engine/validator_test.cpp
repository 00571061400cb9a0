// Prompt validation on a small registry of test node classes.
#include <gtest/gtest.h>

#include "engine/prompt_validator.hpp"

namespace comfydist::engine {
namespace {

node_definition make_definition(const std::string& schema) {
  node_definition d;
  d.info = json::parse(schema);
  d.create = [] { return std::unique_ptr<node_instance>(); };
  return d;
}

node_registry test_registry() {
  node_registry registry;
  registry.add(make_definition(
      R"({"input": {"required": {"value": ["INT", {"default": 1, "min": 0, "max": 10}],
      "ratio": ["FLOAT", {"default": 1.0, "min": 0.5, "max": 2.0}], "mode": [["a", "b"]]},
      "optional": {"label": ["STRING", {}]}},
      "output": ["NUMBER"], "name": "Source", "output_node": false})"));
  registry.add(make_definition(R"({"input": {"required": {"x": ["NUMBER", {}]}},
      "output": ["NUMBER"], "name": "Pass", "output_node": false})"));
  registry.add(make_definition(R"({"input": {"required": {"x": ["NUMBER", {}]}},
      "output": [], "name": "Sink", "output_node": true})"));
  return registry;
}

validation_result validate(json prompt) {
  static const node_registry registry = test_registry();
  static const node_environment environment;
  return validate_prompt(prompt, std::nullopt, registry, environment);
}

TEST(Validator, AcceptsAValidPromptAndCoercesConstants) {
  json prompt = json::parse(
      R"({"1": {"class_type": "Source", "inputs": {"value": "7", "ratio": 1, "mode": "b", "label": 5}},
                                "2": {"class_type": "Sink", "inputs": {"x": ["1", 0]}}})");
  const node_registry registry = test_registry();
  const auto result = validate_prompt(prompt, std::nullopt, registry, node_environment{});
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.outputs, std::vector<std::string>{"2"});
  EXPECT_EQ(prompt["1"]["inputs"]["value"], 7);
  EXPECT_TRUE(prompt["1"]["inputs"]["ratio"].is_number_float());
  EXPECT_EQ(prompt["1"]["inputs"]["label"], "5");
}

TEST(Validator, RangeAndListMessagesUsePythonFormatting) {
  const auto result = validate(json::parse(
      R"({"1": {"class_type": "Source", "inputs": {"value": 11, "ratio": 0.25, "mode": "c"}},
                                               "2": {"class_type": "Sink", "inputs": {"x": ["1", 0]}}})"));
  ASSERT_FALSE(result.ok);
  const auto& errors = result.node_errors["1"]["errors"];
  ASSERT_EQ(errors.size(), 3U);
  EXPECT_EQ(errors[0]["message"], "Value 11 bigger than max of 10");
  EXPECT_EQ(errors[1]["message"], "Value 0.25 smaller than min of 0.5");
  EXPECT_EQ(errors[2]["details"], "mode: 'c' not in ['a', 'b']");
  EXPECT_EQ(result.node_errors["1"]["dependent_outputs"], json::array({"2"}));
  // The output failed only because of its input: its own details are empty.
  EXPECT_EQ(result.error->details, "");
}

TEST(Validator, OneGoodOutputIsEnoughAndFailuresAreListed) {
  const auto result = validate(json::parse(
      R"({"1": {"class_type": "Source", "inputs": {"value": 1, "ratio": 1.0, "mode": "a"}},
                                               "2": {"class_type": "Sink", "inputs": {"x": ["1", 0]}},
                                               "3": {"class_type": "Sink", "inputs": {}}})"));
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.outputs, std::vector<std::string>{"2"});
  EXPECT_EQ(result.node_errors["3"]["errors"][0]["type"], "required_input_missing");
}

TEST(Validator, CycleNodesAllReportTheCycle) {
  const auto result =
      validate(json::parse(R"({"1": {"class_type": "Pass", "inputs": {"x": ["3", 0]}},
                                               "3": {"class_type": "Pass", "inputs": {"x": ["1", 0]}},
                                               "2": {"class_type": "Sink", "inputs": {"x": ["1", 0]}}})"));
  ASSERT_FALSE(result.ok);
  EXPECT_EQ(result.node_errors["1"]["errors"][0]["type"], "dependency_cycle");
  EXPECT_EQ(result.node_errors["3"]["errors"][0]["type"], "dependency_cycle");
  EXPECT_EQ(result.node_errors["1"]["errors"][0]["details"], "1 (Pass) -> 3 (Pass) -> 1 (Pass)");
}

TEST(Validator, MissingClassAndNoOutputs) {
  auto result = validate(
      json::parse(R"({"1": {"class_type": "Nope", "inputs": {}, "_meta": {"title": "My node"}}})"));
  EXPECT_EQ(result.error->type, "missing_node_type");
  EXPECT_EQ(result.error->message,
            "Node 'My node' not found. The custom node may not be installed.");
  result = validate(json::parse(R"({"1": {"inputs": {}}})"));
  EXPECT_EQ(result.error->type, "missing_node_type");
  EXPECT_EQ(result.error->extra_info["class_type"], nullptr);
  result = validate(json::parse(R"({"1": {"class_type": "Source", "inputs": {}}})"));
  EXPECT_EQ(result.error->type, "prompt_no_outputs");
}

}  // namespace
}  // namespace comfydist::engine
