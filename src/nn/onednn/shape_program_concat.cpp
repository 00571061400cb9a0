// In-place channel concatenation for dense blocks: with batch 1 and a channel-blocked layout a
// tensor of C channels is a byte prefix of the same tensor with more channels, so concat(A, B)
// costs nothing when B's producer writes right after A in A's buffer.
#include <algorithm>

#include "nn/onednn/shape_program.hpp"

namespace comfydist::nn::onednn {
namespace {

constexpr int channel_block = 16;

}  // namespace

dnnl::memory::desc shape_program::blocked_desc(int value) const {
  return dnnl::memory::desc(dims_of(value), dnnl::memory::data_type::f32,
                            dnnl::memory::format_tag::aBcd16b);
}

void shape_program::plan_in_place_concats() {
  const std::size_t count = graph_.nodes.size();
  concat_candidate_.assign(count, false);
  force_blocked_.assign(count, false);
  extend_into_.assign(count, -1);
  capacity_.assign(count, 0);
  root_.resize(count);
  for (std::size_t v = 0; v < count; ++v) {
    root_[v] = static_cast<int>(v);
  }
  if (n_ != 1) {
    return;
  }
  std::vector<int> producer(count, -1);
  std::vector<int> uses(count, 0);
  for (std::size_t s = 0; s < plan_.steps.size(); ++s) {
    producer[static_cast<std::size_t>(plan_.steps[s].output)] = static_cast<int>(s);
    for (const int in : plan_.steps[s].inputs) {
      ++uses[static_cast<std::size_t>(in)];
    }
  }
  const auto aligned = [&](int v) {
    return plan_.shapes[static_cast<std::size_t>(v)].channels % channel_block == 0;
  };
  const auto conv_step = [&](int step) {
    return step >= 0 &&
           graph_.nodes[static_cast<std::size_t>(plan_.steps[static_cast<std::size_t>(step)].node)]
                   .kind == op_kind::conv2d;
  };
  std::vector<bool> extended(count, false);
  for (const plan_step& step : plan_.steps) {
    if (graph_.nodes[static_cast<std::size_t>(step.node)].kind != op_kind::concat ||
        step.inputs.size() != 2) {
      continue;
    }
    const int a = step.inputs[0];
    const int b = step.inputs[1];
    const auto ua = static_cast<std::size_t>(a);
    const auto ub = static_cast<std::size_t>(b);
    // B must be a conv output read only here and produced after A, so that nothing but B's
    // producer writes the bytes after A while A is alive; A is extended at most once.
    if (a == 0 || a == b || extended[ua] || !aligned(a) || !aligned(b) || uses[ub] != 1 ||
        b == graph_.output || !conv_step(producer[ub]) || producer[ub] <= producer[ua]) {
      continue;
    }
    extended[ua] = true;
    concat_candidate_[static_cast<std::size_t>(step.output)] = true;
    force_blocked_[ub] = true;
    if (conv_step(producer[ua])) {
      force_blocked_[ua] = true;
    }
  }
}

bool shape_program::try_in_place_concat(compiled_step& cs) {
  const plan_step& step = *cs.step;
  if (!concat_candidate_[static_cast<std::size_t>(step.output)]) {
    return false;
  }
  const int a = step.inputs[0];
  const int b = step.inputs[1];
  // A must start its buffer (a root, or itself an in-place concat) and both must be blocked.
  if (!(value_desc_[static_cast<std::size_t>(a)] == blocked_desc(a)) ||
      !(value_desc_[static_cast<std::size_t>(b)] == blocked_desc(b)) ||
      extend_into_[static_cast<std::size_t>(a)] >= 0) {
    return false;
  }
  cs.in_place = true;
  cs.dst_desc = blocked_desc(step.output);
  extend_into_[static_cast<std::size_t>(b)] = a;
  const int root = root_[static_cast<std::size_t>(a)];
  root_[static_cast<std::size_t>(step.output)] = root;
  capacity_[static_cast<std::size_t>(root)] =
      std::max(capacity_[static_cast<std::size_t>(root)], cs.dst_desc.get_size());
  return true;
}

}  // namespace comfydist::nn::onednn
