// Multiplies conv weights and bias by the following scale (see the header).
#include "nn/onednn/scale_folding.hpp"

#include <cstddef>
#include <vector>

namespace comfydist::nn::onednn {

graph fold_scale_into_conv(graph g) {
  std::vector<int> uses(g.nodes.size(), 0);
  for (const graph_node& n : g.nodes) {
    for (const int in : n.inputs) {
      ++uses[static_cast<std::size_t>(in)];
    }
  }
  ++uses[static_cast<std::size_t>(g.output)];
  for (graph_node& n : g.nodes) {
    if (n.kind != op_kind::scale || n.inputs.size() != 1 || n.alpha == 1.0F) {
      continue;
    }
    const auto src = static_cast<std::size_t>(n.inputs[0]);
    graph_node& conv = g.nodes[src];
    if (conv.kind != op_kind::conv2d || uses[src] != 1) {
      continue;
    }
    for (float& w : conv.conv.weights) {
      w *= n.alpha;
    }
    for (float& b : conv.conv.bias) {
      b *= n.alpha;
    }
    n.alpha = 1.0F;
  }
  return g;
}

}  // namespace comfydist::nn::onednn
