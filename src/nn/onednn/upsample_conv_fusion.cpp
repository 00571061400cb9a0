// Folds nearest upsampling into the following convolution (see the header for the idea).
#include "nn/onednn/upsample_conv_fusion.hpp"

#include <cstddef>
#include <vector>

namespace comfydist::nn::onednn {
namespace {

int floor_div(int a, int b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// Low-resolution convolution equivalent to "upsample by s, then conv p" (p has same padding).
// Output channel (o·s + i)·s + j holds phase (i, j) of output channel o: CRD order.
conv2d_params phase_conv(const conv2d_params& p, int s) {
  const int min_h = floor_div(-p.pad_top, s);
  const int max_h = floor_div(s - 1 + p.kernel_h - 1 - p.pad_top, s);
  const int min_w = floor_div(-p.pad_left, s);
  const int max_w = floor_div(s - 1 + p.kernel_w - 1 - p.pad_left, s);
  conv2d_params q;
  q.in_channels = p.in_channels;
  q.out_channels = p.out_channels * s * s;
  q.kernel_h = max_h - min_h + 1;
  q.kernel_w = max_w - min_w + 1;
  q.pad_top = -min_h;
  q.pad_bottom = max_h;
  q.pad_left = -min_w;
  q.pad_right = max_w;
  const auto kh = static_cast<std::size_t>(q.kernel_h);
  const auto kw = static_cast<std::size_t>(q.kernel_w);
  const auto cin = static_cast<std::size_t>(q.in_channels);
  q.weights.assign(static_cast<std::size_t>(q.out_channels) * cin * kh * kw, 0.0F);
  if (!p.bias.empty()) {
    q.bias.resize(static_cast<std::size_t>(q.out_channels));
  }
  for (int o = 0; o < p.out_channels; ++o) {
    for (int i = 0; i < s; ++i) {
      for (int j = 0; j < s; ++j) {
        const std::size_t oq = (static_cast<std::size_t>(o) * static_cast<std::size_t>(s) +
                                static_cast<std::size_t>(i)) *
                                   static_cast<std::size_t>(s) +
                               static_cast<std::size_t>(j);
        for (std::size_t c = 0; c < cin; ++c) {
          for (int dy = 0; dy < p.kernel_h; ++dy) {
            const auto ky = static_cast<std::size_t>(floor_div(i + dy - p.pad_top, s) - min_h);
            for (int dx = 0; dx < p.kernel_w; ++dx) {
              const auto kx = static_cast<std::size_t>(floor_div(j + dx - p.pad_left, s) - min_w);
              const std::size_t src =
                  ((static_cast<std::size_t>(o) * cin + c) * static_cast<std::size_t>(p.kernel_h) +
                   static_cast<std::size_t>(dy)) *
                      static_cast<std::size_t>(p.kernel_w) +
                  static_cast<std::size_t>(dx);
              q.weights[((oq * cin + c) * kh + ky) * kw + kx] += p.weights[src];
            }
          }
        }
        if (!p.bias.empty()) {
          q.bias[oq] = p.bias[static_cast<std::size_t>(o)];
        }
      }
    }
  }
  return q;
}

}  // namespace

graph fuse_upsample_into_conv(const graph& g) {
  graph out = g;
  std::vector<int> uses(g.nodes.size(), 0);
  std::vector<int> consumer(g.nodes.size(), -1);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    for (const int in : g.nodes[i].inputs) {
      ++uses[static_cast<std::size_t>(in)];
      consumer[static_cast<std::size_t>(in)] = static_cast<int>(i);
    }
  }
  ++uses[static_cast<std::size_t>(g.output)];
  for (std::size_t u = 0; u < g.nodes.size(); ++u) {
    const graph_node& up = g.nodes[u];
    if (up.kind != op_kind::upsample_nearest || up.factor < 2 || uses[u] != 1 || consumer[u] < 0) {
      continue;
    }
    const auto c = static_cast<std::size_t>(consumer[u]);
    const graph_node& conv = g.nodes[c];
    const conv2d_params& p = conv.conv;
    if (conv.kind != op_kind::conv2d || p.pad_top + p.pad_bottom != p.kernel_h - 1 ||
        p.pad_left + p.pad_right != p.kernel_w - 1) {
      continue;
    }
    graph_node fused;
    fused.kind = op_kind::conv2d;
    fused.name = conv.name + " (with " + up.name + ")";
    fused.inputs = up.inputs;
    fused.conv = phase_conv(p, up.factor);
    graph_node shuffle;
    shuffle.kind = op_kind::pixel_shuffle;
    shuffle.name = conv.name;
    shuffle.inputs = {static_cast<int>(u)};
    shuffle.factor = up.factor;
    shuffle.order = shuffle_order::crd;
    out.nodes[u] = std::move(fused);
    out.nodes[c] = std::move(shuffle);
  }
  return out;
}

}  // namespace comfydist::nn::onednn
