// Replays buffer lifetimes with upper-bound sizes (see the header).
#include "nn/onednn/peak_estimate.hpp"

#include <algorithm>

namespace comfydist::nn::onednn {
namespace {

constexpr long long channel_block = 16;

double value_bytes(const node_shape& s, int height, int width) {
  const long long c = (s.channels + channel_block - 1) / channel_block * channel_block;
  const long long h = std::max<long long>(s.height(height), 0);
  const long long w = std::max<long long>(s.width(width), 0);
  return static_cast<double>(c) * static_cast<double>(h) * static_cast<double>(w) * 4.0;
}

}  // namespace

std::size_t estimate_peak_bytes(const graph& g, const exec_plan& plan, int height, int width,
                                std::size_t scratch_bytes) {
  std::vector<double> size(g.nodes.size());
  for (std::size_t i = 0; i < size.size(); ++i) {
    size[i] = value_bytes(plan.shapes[i], height, width);
  }
  double live = 0.0;
  double peak = 0.0;
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    const plan_step& step = plan.steps[s];
    double temps = 0.0;
    for (const int in : step.inputs) {
      temps += size[static_cast<std::size_t>(in)];
    }
    const double out = size[static_cast<std::size_t>(step.output)];
    peak = std::max(peak, live + temps + out);
    live += out;
    for (const int in : step.inputs) {
      if (plan.last_use[static_cast<std::size_t>(in)] == static_cast<int>(s) && in != g.output &&
          in != 0) {
        live -= size[static_cast<std::size_t>(in)];
        size[static_cast<std::size_t>(in)] = 0.0;
      }
    }
  }
  // The plain output tensor and the reorder into it.
  peak = std::max(
      peak, live + value_bytes(plan.shapes[static_cast<std::size_t>(g.output)], height, width));
  // In-place concatenation allocates a dense block's whole buffer when its first tensor is made;
  // the replay above counts block members one by one instead. A margin covers the difference.
  peak = peak * 1.25 + static_cast<double>(scratch_bytes) + 1024.0 * 1024.0;
  return static_cast<std::size_t>(peak);
}

}  // namespace comfydist::nn::onednn
