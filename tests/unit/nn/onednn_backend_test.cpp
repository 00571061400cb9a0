// The oneDNN CPU backend against the naive reference ops, on small random graphs of every op,
// fusion pattern and layout corner (unaligned channels, odd sizes, batches).
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "nn/backend.hpp"
#include "nn/reference_ops.hpp"
#include "nn_test_graphs.hpp"

namespace comfydist::nn {
namespace {

using testing::graph_builder;

void expect_matches_reference(const graph& g, tensor_shape in_shape, double tolerance = 2e-4) {
  auto shared = std::make_shared<const graph>(g);
  auto network = make_cpu_backend(0)->compile(shared);
  const host_tensor input = testing::random_tensor(in_shape, 7);
  const host_tensor expected = reference::run_graph(g, input);
  const host_tensor got = network->run(input);
  ASSERT_EQ(got.shape, expected.shape);
  const testing::tensor_diff d = testing::compare(got, expected);
  EXPECT_LT(d.max_abs, tolerance) << "mean " << d.mean_abs;
  // A second run reuses the cached primitives and must give the same result.
  const host_tensor again = network->run(input);
  EXPECT_EQ(testing::compare(again, got).max_abs, 0.0);
  EXPECT_GT(network->last_peak_bytes(), 0U);
  EXPECT_LE(network->last_peak_bytes(), network->estimate_peak_bytes(in_shape.h, in_shape.w));
}

TEST(OnednnBackend, ConvolutionsOfEveryKernelAndPadding) {
  for (const int k : {1, 3, 5}) {
    for (const bool same : {true, false}) {
      for (const int cout : {3, 16, 20}) {
        graph_builder b(3);
        const int c1 = b.conv(0, 16, k, same);
        const int c2 = b.conv(c1, cout, k, same, cout != 20);
        SCOPED_TRACE("k=" + std::to_string(k) + " same=" + std::to_string(same) +
                     " cout=" + std::to_string(cout));
        expect_matches_reference(b.finish(c2, 1), {1, 3, 13, 11});
      }
    }
  }
}

TEST(OnednnBackend, FusedActivationsScaleAndResidual) {
  graph_builder b(3);
  const int f0 = b.conv(0, 32, 3);
  const int a = b.unary(op_kind::relu, b.conv(f0, 32, 3));
  const int l = b.unary(op_kind::leaky_relu, b.conv(a, 32, 3), 0.2F);
  // conv → scale → add with a residual that dies here (in-place sum).
  const int r1 = b.add({l, b.unary(op_kind::scale, b.conv(l, 32, 3), 0.2F)});
  // conv → add with a residual still needed later (copied), then relu after the sum.
  const int r2 = b.unary(op_kind::relu, b.add({b.conv(r1, 32, 1), f0}));
  const int r3 = b.add({f0, r2});
  const int out = b.conv(r3, 3, 3);
  expect_matches_reference(b.finish(out, 1), {1, 3, 17, 9});
}

TEST(OnednnBackend, ResidualFromInputAndFromConvInput) {
  graph_builder b(16);
  const int c = b.conv(0, 16, 3);
  const int s1 = b.add({c, 0});                   // operand is the caller's input: copied
  const int s2 = b.add({b.conv(s1, 16, 3), s1});  // operand is also the conv's own input
  expect_matches_reference(b.finish(s2, 1), {1, 16, 8, 8});
}

TEST(OnednnBackend, StandaloneElementwiseOps) {
  graph_builder b(3);
  const int c = b.conv(0, 20, 3);
  const int cat = b.concat({c, c});
  const int r = b.unary(op_kind::relu, cat);
  const int l = b.unary(op_kind::leaky_relu, r, 0.1F);
  const int s = b.unary(op_kind::scale, b.add({l, cat, r}), -0.5F);
  const int p = b.prelu(s);
  const int q = b.prelu(p, true);
  expect_matches_reference(b.finish(b.conv(q, 3, 3), 1), {2, 3, 6, 10});
}

TEST(OnednnBackend, ConcatAlignedAndUnaligned) {
  graph_builder b(3);
  const int f = b.conv(0, 64, 3);
  const int g1 = b.unary(op_kind::relu, b.conv(f, 4, 3));
  const int cat1 = b.concat({f, g1});  // 68 channels
  const int g2 = b.unary(op_kind::relu, b.conv(cat1, 4, 3));
  const int cat2 = b.concat({cat1, g2});  // offset 68: unaligned
  const int g3 = b.unary(op_kind::relu, b.conv(cat2, 32, 3));
  const int cat3 = b.concat({f, g3});  // aligned
  const int out = b.conv(b.concat({b.conv(cat3, 64, 1), b.conv(cat2, 16, 1, false)}), 3, 3);
  expect_matches_reference(b.finish(out, 1), {1, 3, 12, 12});
}

TEST(OnednnBackend, PixelShuffleBothOrders) {
  for (const auto order : {shuffle_order::crd, shuffle_order::dcr}) {
    for (const int s : {2, 3, 4}) {
      graph_builder b(3);
      const int c = b.conv(b.conv(0, 16, 3), 3 * s * s, 3);
      expect_matches_reference(b.finish(b.shuffle(c, s, order), s), {2, 3, 5, 7});
    }
  }
}

TEST(OnednnBackend, UpsampleStandaloneAndFoldedIntoConv) {
  for (const int s : {2, 3, 8}) {
    for (const int k : {3, 5}) {
      graph_builder b(3);
      const int c = b.unary(op_kind::relu, b.conv(0, 24, 3));
      const int up = b.upsample(c, s);  // feeds only a same conv: folded
      const int out = b.conv(up, 3, k);
      SCOPED_TRACE("s=" + std::to_string(s) + " k=" + std::to_string(k));
      expect_matches_reference(b.finish(out, s), {1, 3, 6, 5});
    }
  }
  graph_builder b(3);
  const int up = b.upsample(b.conv(0, 16, 3), 2);
  const int v = b.conv(up, 3, 3, false);  // valid conv: not folded
  const int r = b.unary(op_kind::relu, b.upsample(b.conv(0, 3, 1), 2));
  (void)v;
  expect_matches_reference(b.finish(r, 2), {1, 3, 7, 7});
}

TEST(OnednnBackend, RrdnLikeBlockWithShuffle) {
  graph_builder b(3);
  const int pre = b.conv(0, 64, 3);
  int cat = pre;
  for (int i = 0; i < 3; ++i) {
    cat = b.concat({cat, b.unary(op_kind::relu, b.conv(cat, 32, 3))});
  }
  const int lrl = b.add({pre, b.unary(op_kind::scale, b.conv(cat, 64, 3), 0.2F)});
  const int grl = b.add({b.conv(lrl, 64, 3), pre});
  const int out = b.conv(b.shuffle(b.conv(grl, 12, 3), 2, shuffle_order::dcr), 3, 3);
  expect_matches_reference(b.finish(out, 2), {1, 3, 16, 12});
}

TEST(OnednnBackend, TinyInputsAndBadChannels) {
  graph_builder b(3);
  const int out = b.conv(b.unary(op_kind::relu, b.conv(0, 16, 3)), 3, 5);
  const graph g = b.finish(out, 1);
  expect_matches_reference(g, {1, 3, 1, 1});
  auto network = make_cpu_backend(1)->compile(std::make_shared<const graph>(g));
  EXPECT_THROW(network->run(host_tensor({1, 4, 8, 8})), std::invalid_argument);
  EXPECT_THROW(network->run(host_tensor({1, 3, 0, 8})), std::invalid_argument);
  EXPECT_GT(network->weight_bytes(), 0U);
}

TEST(OnednnBackend, ValidConvTooLargeForInputIsAnError) {
  graph_builder b(3);
  const int out = b.conv(0, 3, 5, false);
  auto network = make_cpu_backend(0)->compile(std::make_shared<const graph>(b.finish(out, 1)));
  EXPECT_THROW(network->run(host_tensor({1, 3, 3, 3})), std::invalid_argument);
}

TEST(OnednnBackend, FreesIntermediatesAndEstimatesBeforeRunning) {
  graph_builder b(3);
  int x = b.conv(0, 64, 3);
  for (int i = 0; i < 12; ++i) {
    x = b.unary(op_kind::relu, b.conv(x, 64, 3));
  }
  auto network =
      make_cpu_backend(0)->compile(std::make_shared<const graph>(b.finish(b.conv(x, 3, 3), 1)));
  const std::size_t estimate = network->estimate_peak_bytes(64, 64);
  (void)network->run(testing::random_tensor({1, 3, 64, 64}, 3));
  const std::size_t one_value = 64 * 64 * 64 * sizeof(float);
  // Only two or three activations are alive at any time, not all thirteen.
  EXPECT_LT(network->last_peak_bytes(), 4 * one_value);
  EXPECT_GE(estimate, network->last_peak_bytes());
  EXPECT_LT(estimate, 8 * one_value);
}

}  // namespace
}  // namespace comfydist::nn
