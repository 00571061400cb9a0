// Builds the fused step list and value lifetimes for the oneDNN backend.
#include "nn/onednn/exec_plan.hpp"

#include <algorithm>
#include <cstddef>

namespace comfydist::nn::onednn {
namespace {

bool is_eltwise(op_kind k) {
  return k == op_kind::relu || k == op_kind::leaky_relu || k == op_kind::scale;
}

}  // namespace

exec_plan make_exec_plan(const graph& g) {
  exec_plan plan;
  plan.shapes = infer_shapes(g);
  const std::size_t count = g.nodes.size();
  std::vector<std::vector<int>> consumers(count);
  for (std::size_t i = 0; i < count; ++i) {
    for (const int in : g.nodes[i].inputs) {
      auto& list = consumers[static_cast<std::size_t>(in)];
      // A node reading the same value twice (add(x, x)) still counts as two uses.
      list.push_back(static_cast<int>(i));
    }
  }
  const auto single_consumer = [&](int v) {
    const auto& list = consumers[static_cast<std::size_t>(v)];
    return v != g.output && list.size() == 1 ? list[0] : -1;
  };
  std::vector<bool> absorbed(count, false);
  // Values already computed by earlier steps: a residual can only be summed into a convolution
  // when it exists before the convolution runs.
  std::vector<bool> produced(count, false);
  produced[0] = true;
  for (std::size_t i = 1; i < count; ++i) {
    if (absorbed[i]) {
      continue;
    }
    const graph_node& n = g.nodes[i];
    plan_step step;
    step.node = static_cast<int>(i);
    step.inputs = n.inputs;
    step.output = static_cast<int>(i);
    if (n.kind == op_kind::conv2d) {
      for (int next = single_consumer(step.output); next >= 0; next = single_consumer(next)) {
        const graph_node& c = g.nodes[static_cast<std::size_t>(next)];
        if (is_eltwise(c.kind)) {
          auto& list = step.sum_operand < 0 ? step.before_sum : step.after_sum;
          // A scale by 1 (left by fold_scale_into_conv) needs no post-op.
          if (c.kind != op_kind::scale || c.alpha != 1.0F) {
            list.push_back({c.kind, c.alpha});
          }
        } else if (c.kind == op_kind::add && c.inputs.size() == 2 && step.sum_operand < 0 &&
                   c.inputs[0] != c.inputs[1] &&
                   produced[static_cast<std::size_t>(c.inputs[0] == step.output ? c.inputs[1]
                                                                                : c.inputs[0])]) {
          step.sum_operand = c.inputs[0] == step.output ? c.inputs[1] : c.inputs[0];
        } else {
          break;
        }
        absorbed[static_cast<std::size_t>(next)] = true;
        step.output = next;
      }
      if (step.sum_operand >= 0) {
        step.inputs.push_back(step.sum_operand);
      }
    }
    produced[static_cast<std::size_t>(step.output)] = true;
    plan.steps.push_back(std::move(step));
  }
  plan.last_use.assign(count, -1);
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    for (const int in : plan.steps[s].inputs) {
      plan.last_use[static_cast<std::size_t>(in)] = static_cast<int>(s);
    }
  }
  return plan;
}

}  // namespace comfydist::nn::onednn
