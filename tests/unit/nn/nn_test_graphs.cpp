// Random small graphs and tensor comparison for the nn backend tests.
#include "nn_test_graphs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace comfydist::nn::testing {

graph_builder::graph_builder(int input_channels, unsigned seed) : rng_(seed) {
  g_.input_channels = input_channels;
  graph_node in;
  in.name = "input";
  push(in, input_channels);
}

int graph_builder::push(graph_node n, int channels) {
  if (n.name.empty()) {
    // Formatted into a buffer: string concatenation here trips a GCC 12 -O3 false
    // stringop-overflow warning.
    char name[32];
    std::snprintf(name, sizeof name, "n%zu", g_.nodes.size());
    n.name = name;
  }
  g_.nodes.push_back(std::move(n));
  channels_.push_back(channels);
  return static_cast<int>(g_.nodes.size()) - 1;
}

float graph_builder::random_weight() {
  return std::uniform_real_distribution<float>(-0.3F, 0.3F)(rng_);
}

int graph_builder::conv(int in, int out_channels, int k, bool same, bool bias) {
  graph_node n;
  n.kind = op_kind::conv2d;
  n.inputs = {in};
  conv2d_params& p = n.conv;
  p.in_channels = channels(in);
  p.out_channels = out_channels;
  p.kernel_h = p.kernel_w = k;
  if (same) {
    p.pad_top = p.pad_left = (k - 1) / 2;
    p.pad_bottom = p.pad_right = k - 1 - (k - 1) / 2;
  }
  p.weights.resize(static_cast<std::size_t>(p.in_channels * out_channels * k * k));
  for (float& v : p.weights) {
    v = random_weight() / static_cast<float>(k);
  }
  if (bias) {
    p.bias.resize(static_cast<std::size_t>(out_channels));
    for (float& v : p.bias) {
      v = random_weight();
    }
  }
  return push(std::move(n), out_channels);
}

int graph_builder::unary(op_kind kind, int in, float alpha) {
  graph_node n;
  n.kind = kind;
  n.inputs = {in};
  n.alpha = alpha;
  return push(std::move(n), channels(in));
}

int graph_builder::prelu(int in, bool single_slope) {
  graph_node n;
  n.kind = op_kind::prelu;
  n.inputs = {in};
  n.slopes.resize(single_slope ? 1U : static_cast<std::size_t>(channels(in)));
  for (float& v : n.slopes) {
    v = random_weight();
  }
  return push(std::move(n), channels(in));
}

int graph_builder::add(std::vector<int> ins) {
  graph_node n;
  n.kind = op_kind::add;
  const int c = channels(ins.at(0));
  n.inputs = std::move(ins);
  return push(std::move(n), c);
}

int graph_builder::concat(std::vector<int> ins) {
  graph_node n;
  n.kind = op_kind::concat;
  int c = 0;
  for (const int in : ins) {
    c += channels(in);
  }
  n.inputs = std::move(ins);
  return push(std::move(n), c);
}

int graph_builder::shuffle(int in, int factor, shuffle_order order) {
  graph_node n;
  n.kind = op_kind::pixel_shuffle;
  n.inputs = {in};
  n.factor = factor;
  n.order = order;
  return push(std::move(n), channels(in) / (factor * factor));
}

int graph_builder::upsample(int in, int factor) {
  graph_node n;
  n.kind = op_kind::upsample_nearest;
  n.inputs = {in};
  n.factor = factor;
  return push(std::move(n), channels(in));
}

graph graph_builder::finish(int out, int scale) {
  graph g = g_;
  g.output = out;
  g.output_channels = channels(out);
  g.scale = scale;
  g.architecture = "test";
  return g;
}

host_tensor random_tensor(tensor_shape s, unsigned seed) {
  host_tensor t(s);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0F, 1.0F);
  for (float& v : t.data) {
    v = dist(rng);
  }
  return t;
}

tensor_diff compare(const host_tensor& a, const host_tensor& b) {
  if (!(a.shape == b.shape) || a.data.size() != b.data.size()) {
    throw std::invalid_argument("compare: shapes differ");
  }
  tensor_diff d;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    const double e = std::fabs(static_cast<double>(a.data[i]) - b.data[i]);
    d.max_abs = std::max(d.max_abs, e);
    d.mean_abs += e;
  }
  d.mean_abs /= static_cast<double>(std::max<std::size_t>(a.data.size(), 1));
  return d;
}

}  // namespace comfydist::nn::testing
