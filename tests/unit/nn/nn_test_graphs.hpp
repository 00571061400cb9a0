// Builders for small random graphs shared by the nn backend tests.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "nn/graph.hpp"
#include "nn/host_tensor.hpp"

namespace comfydist::nn::testing {

class graph_builder {
 public:
  explicit graph_builder(int input_channels, unsigned seed = 1);

  int conv(int in, int out_channels, int k, bool same = true, bool bias = true);
  int unary(op_kind kind, int in, float alpha = 0.0F);
  int prelu(int in, bool single_slope = false);
  int add(std::vector<int> ins);
  int concat(std::vector<int> ins);
  int shuffle(int in, int factor, shuffle_order order);
  int upsample(int in, int factor);
  int channels(int v) const { return channels_[static_cast<std::size_t>(v)]; }
  // Finishes with `out` as the output; scale must match the network's.
  graph finish(int out, int scale);

 private:
  int push(graph_node n, int channels);
  float random_weight();

  graph g_;
  std::vector<int> channels_;
  std::mt19937 rng_;
};

host_tensor random_tensor(tensor_shape s, unsigned seed);

struct tensor_diff {
  double max_abs = 0.0;
  double mean_abs = 0.0;
};
tensor_diff compare(const host_tensor& a, const host_tensor& b);

}  // namespace comfydist::nn::testing
