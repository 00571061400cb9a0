// The planner's modes, rewrites and refusals.
#include <gtest/gtest.h>

#include "common/api_error.hpp"
#include "master/job_planner.hpp"

namespace comfydist::master {
namespace {

const json kFanOut = json::parse(R"({
  "1": {"class_type": "DistributedSeed", "inputs": {"seed": 100}},
  "2": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
  "3": {"class_type": "ImageAddNoise", "inputs": {"image": ["2", 0], "seed": ["1", 0], "strength": 0.5}},
  "4": {"class_type": "DistributedCollector", "inputs": {"images": ["3", 0], "load_balance": false}},
  "5": {"class_type": "ImageInvert", "inputs": {"image": ["4", 0]}},
  "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "out"}},
  "7": {"class_type": "DistributedValue", "inputs": {"default_value": "0.1", "worker_values": "{\"_type\": \"FLOAT\", \"2\": 0.9}"}},
  "8": {"class_type": "ImageBlur", "inputs": {"image": ["3", 0], "blur_radius": 1, "sigma": ["7", 0]}}
})");

TEST(JobPlanner, SinglePromptIsOneUnit) {
  const json prompt = json::parse(R"({"1": {"class_type": "EmptyImage", "inputs": {}},
                                      "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}})");
  const auto plan = plan_job(prompt, {std::nullopt, 3});
  EXPECT_EQ(plan.mode, distribution_mode::single);
  ASSERT_EQ(plan.units.size(), 1U);
  EXPECT_EQ(plan.units[0].prompt, prompt);
}

TEST(JobPlanner, FanOutGivesEachUnitItsSeedAndValue) {
  const auto plan = plan_job(kFanOut, {4, 2});
  EXPECT_EQ(plan.mode, distribution_mode::fan_out);
  ASSERT_EQ(plan.units.size(), 4U);
  for (int j = 0; j < 4; ++j) {
    const json& p = plan.units[j].prompt;
    EXPECT_FALSE(p.contains("1"));  // the seed node is gone, its value inlined
    EXPECT_EQ(p["3"]["inputs"]["seed"], 100 + j);
    EXPECT_EQ(p["4"]["class_type"], "PreviewImage");
    EXPECT_EQ(p["4"]["inputs"]["images"], json::parse(R"(["3", 0])"));
    // Units stop at the collector: nothing downstream of it, nothing beside it.
    EXPECT_FALSE(p.contains("5"));
    EXPECT_FALSE(p.contains("6"));
    EXPECT_FALSE(p.contains("8"));
    EXPECT_EQ(plan.units[j].collected_outputs, std::vector<std::string>{"4"});
  }
  // The master runs the collector and what follows it.
  EXPECT_TRUE(plan.master_prompt.contains("4"));
  EXPECT_TRUE(plan.master_prompt.contains("5"));
  EXPECT_TRUE(plan.master_prompt.contains("6"));
  EXPECT_FALSE(plan.master_prompt.contains("3"));
}

TEST(JobPlanner, DistributedValuePerUnit) {
  json prompt = kFanOut;
  prompt["9"] =
      json::parse(R"({"class_type": "DistributedCollector", "inputs": {"images": ["8", 0]}})");
  const auto plan = plan_job(prompt, {3, 3});
  EXPECT_EQ(plan.units[0].prompt["8"]["inputs"]["sigma"], 0.1);
  EXPECT_EQ(plan.units[1].prompt["8"]["inputs"]["sigma"], 0.9);
  EXPECT_EQ(plan.units[2].prompt["8"]["inputs"]["sigma"], 0.1);
}

TEST(JobPlanner, LoadBalanceRunsTheWholeWorkflowOnce) {
  json prompt = kFanOut;
  prompt["4"]["inputs"]["load_balance"] = true;
  const auto plan = plan_job(prompt, {std::nullopt, 3});
  EXPECT_EQ(plan.mode, distribution_mode::load_balanced);
  ASSERT_EQ(plan.units.size(), 1U);
  const json& p = plan.units[0].prompt;
  EXPECT_FALSE(p.contains("4"));
  EXPECT_EQ(p["5"]["inputs"]["image"], json::parse(R"(["3", 0])"));
  EXPECT_EQ(p["3"]["inputs"]["seed"], 100);
}

TEST(JobPlanner, RefusesBadInput) {
  json prompt = kFanOut;
  EXPECT_THROW(plan_job(prompt, {0, 2}), api_error);
  EXPECT_THROW(plan_job(prompt, {1001, 2}), api_error);
  prompt["4"]["inputs"].erase("images");
  EXPECT_THROW(plan_job(prompt, {2, 2}), api_error);
}

}  // namespace
}  // namespace comfydist::master
