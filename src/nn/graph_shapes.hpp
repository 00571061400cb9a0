// Shape inference over a graph without a concrete input size: channels per node and spatial size
// as an affine function of the input size (size = multiplier · input + offset).
#pragma once

#include <vector>

#include "nn/graph.hpp"

namespace comfydist::nn {

struct node_shape {
  int channels = 0;
  // Height and width of the node's output, as multiplier · input + offset.
  long long mul_h = 1;
  long long off_h = 0;
  long long mul_w = 1;
  long long off_w = 0;

  long long height(long long input_h) const { return mul_h * input_h + off_h; }
  long long width(long long input_w) const { return mul_w * input_w + off_w; }
};

// Validates the graph (as validate_graph) and returns one shape per node.
std::vector<node_shape> infer_shapes(const graph& g);

}  // namespace comfydist::nn
