// The fusion plan: activations, scale and residual sums fold into convolutions; lifetimes end at
// the last reader; upsample + same conv becomes conv + pixel shuffle.
#include <gtest/gtest.h>

#include "nn/onednn/exec_plan.hpp"
#include "nn/onednn/upsample_conv_fusion.hpp"
#include "nn_test_graphs.hpp"

namespace comfydist::nn::onednn {
namespace {

using testing::graph_builder;

TEST(OnednnPlan, FusesEltwiseScaleAndSum) {
  graph_builder b(3);
  const int pre = b.conv(0, 16, 3);
  const int relu = b.unary(op_kind::relu, b.conv(pre, 16, 3));
  const int sum = b.add({pre, b.unary(op_kind::scale, b.conv(relu, 16, 3), 0.2F)});
  const int leaky = b.unary(op_kind::leaky_relu, sum, 0.1F);
  const int out = b.conv(leaky, 3, 3);
  const exec_plan plan = make_exec_plan(b.finish(out, 1));
  ASSERT_EQ(plan.steps.size(), 4U);
  EXPECT_EQ(plan.steps[1].output, relu);
  ASSERT_EQ(plan.steps[1].before_sum.size(), 1U);
  EXPECT_EQ(plan.steps[2].sum_operand, pre);
  EXPECT_EQ(plan.steps[2].output, leaky);
  ASSERT_EQ(plan.steps[2].before_sum.size(), 1U);
  EXPECT_EQ(plan.steps[2].before_sum[0].kind, op_kind::scale);
  ASSERT_EQ(plan.steps[2].after_sum.size(), 1U);
  EXPECT_EQ(plan.last_use[static_cast<std::size_t>(pre)], 2);
}

TEST(OnednnPlan, DoesNotFuseSharedValuesOrLateOperands) {
  graph_builder b(3);
  const int c1 = b.conv(0, 16, 3);
  const int r = b.unary(op_kind::relu, c1);
  const int c2 = b.conv(r, 16, 3);
  const int late = b.conv(r, 16, 3);  // computed after c2: cannot be summed into c2
  const int sum = b.add({c2, late});
  const int out = b.add({sum, c1});  // c1 has two readers: relu not fused into it
  const exec_plan plan = make_exec_plan(b.finish(out, 1));
  EXPECT_EQ(plan.steps[0].output, c1);
  EXPECT_EQ(plan.steps[2].sum_operand, -1);
  EXPECT_EQ(plan.steps[3].sum_operand, c2);  // the later conv absorbs the add instead
}

TEST(OnednnPlan, FoldsUpsampleIntoSameConv) {
  graph_builder b(3);
  const int up = b.upsample(b.conv(0, 8, 3), 4);
  const int out = b.conv(up, 3, 3);
  const graph g = fuse_upsample_into_conv(b.finish(out, 4));
  EXPECT_EQ(g.nodes[static_cast<std::size_t>(up)].kind, op_kind::conv2d);
  EXPECT_EQ(g.nodes[static_cast<std::size_t>(up)].conv.out_channels, 48);
  EXPECT_EQ(g.nodes[static_cast<std::size_t>(out)].kind, op_kind::pixel_shuffle);
  EXPECT_NO_THROW(validate_graph(g));
}

}  // namespace
}  // namespace comfydist::nn::onednn
