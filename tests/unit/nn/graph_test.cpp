// Graph validation errors and work-per-pixel counting.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "nn/graph.hpp"

namespace comfydist::nn {
namespace {

graph_node conv_node(int in, int cin, int cout, int k, int pad) {
  graph_node n;
  n.kind = op_kind::conv2d;
  n.name = "conv";
  n.inputs = {in};
  n.conv.in_channels = cin;
  n.conv.out_channels = cout;
  n.conv.kernel_h = k;
  n.conv.kernel_w = k;
  n.conv.pad_top = n.conv.pad_left = n.conv.pad_bottom = n.conv.pad_right = pad;
  n.conv.weights.assign(static_cast<std::size_t>(cin * cout * k * k), 0.1F);
  n.conv.bias.assign(static_cast<std::size_t>(cout), 0.0F);
  return n;
}

graph small_graph() {
  graph g;
  g.nodes.push_back(graph_node{});
  g.nodes.push_back(conv_node(0, 3, 12, 3, 1));
  graph_node shuffle;
  shuffle.kind = op_kind::pixel_shuffle;
  shuffle.name = "shuffle";
  shuffle.inputs = {1};
  shuffle.factor = 2;
  g.nodes.push_back(shuffle);
  g.output = 2;
  g.scale = 2;
  return g;
}

void expect_invalid(const graph& g, const std::string& fragment) {
  try {
    validate_graph(g);
    FAIL() << "expected std::invalid_argument containing '" << fragment << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Graph, AcceptsValidGraphAndCountsMacs) {
  const graph g = small_graph();
  EXPECT_NO_THROW(validate_graph(g));
  EXPECT_DOUBLE_EQ(g.macs_per_input_pixel(), 3.0 * 12 * 9);
}

TEST(Graph, RejectsBadStructure) {
  graph g = small_graph();
  g.nodes[2].inputs = {5};
  expect_invalid(g, "does not name an earlier node");
  g = small_graph();
  g.nodes[1].conv.weights.pop_back();
  expect_invalid(g, "weights have");
  g = small_graph();
  g.nodes[1].conv.in_channels = 4;
  expect_invalid(g, "input channels");
  g = small_graph();
  g.nodes[2].factor = 3;
  expect_invalid(g, "divisible");
  g = small_graph();
  g.scale = 4;
  expect_invalid(g, "declared scale");
  g = small_graph();
  g.output = 7;
  expect_invalid(g, "output index");
  g = small_graph();
  g.output_channels = 4;
  expect_invalid(g, "channels, expected");
  g = small_graph();
  g.nodes[1].conv.pad_top = 3;
  expect_invalid(g, "padding");
  g = small_graph();
  g.nodes[1].conv.bias.resize(2);
  expect_invalid(g, "bias");
  g = small_graph();
  g.nodes.clear();
  expect_invalid(g, "node 0");
  g = small_graph();
  g.nodes[2].kind = op_kind::input;
  expect_invalid(g, "only node 0");
}

TEST(Graph, RejectsMismatchedAddAndConcat) {
  graph g = small_graph();
  graph_node add;
  add.kind = op_kind::add;
  add.name = "add";
  add.inputs = {0, 1};
  g.nodes.insert(g.nodes.begin() + 2, add);
  g.nodes[3].inputs = {2};
  expect_invalid(g, "add inputs differ in channel count");
  g.nodes[2].kind = op_kind::concat;
  g.nodes[2].inputs = {0, 2};
  expect_invalid(g, "does not name an earlier node");
}

}  // namespace
}  // namespace comfydist::nn
