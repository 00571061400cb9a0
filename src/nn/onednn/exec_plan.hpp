// The shape-independent execution plan of a graph on the oneDNN backend: which nodes fuse into
// one primitive (convolution + eltwise/scale + residual sum) and when each value dies.
#pragma once

#include <vector>

#include "nn/graph.hpp"
#include "nn/graph_shapes.hpp"

namespace comfydist::nn::onednn {

// An elementwise op folded into a convolution as a post-op.
struct fused_eltwise {
  op_kind kind = op_kind::relu;  // relu, leaky_relu or scale
  float alpha = 0.0F;
};

struct plan_step {
  int node = 0;                           // the graph node this step computes (conv or other op)
  std::vector<int> inputs;                // value ids (graph node indices) read
  int output = 0;                         // value id written: the last node of a fused chain
  std::vector<fused_eltwise> before_sum;  // conv post-ops before the residual sum
  int sum_operand = -1;                   // value added with a sum post-op, or -1
  std::vector<fused_eltwise> after_sum;   // conv post-ops after the residual sum
};

struct exec_plan {
  std::vector<plan_step> steps;
  // For each value id, the index of the last step reading it (-1: never read); the graph output
  // is never freed.
  std::vector<int> last_use;
  std::vector<node_shape> shapes;  // per graph node
};

exec_plan make_exec_plan(const graph& g);

}  // namespace comfydist::nn::onednn
