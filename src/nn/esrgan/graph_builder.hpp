// Appending layers to a graph from a state dict's tensors, checking each tensor's shape against the
// layer it feeds so that a mismatched checkpoint fails with the tensor's name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/graph.hpp"
#include "nn/state_dict.hpp"

namespace comfydist::nn::esrgan {

class graph_builder {
 public:
  graph_builder(state_dict& weights, std::string architecture, int input_channels);

  int input() const { return 0; }
  // A 2-D convolution with "same" zero padding from `<prefix>.weight` (OIHW) and `<prefix>.bias`.
  // in_channels is checked against the weight; out_channels is returned through the node.
  int conv(const std::string& prefix, int from, int in_channels);
  int leaky_relu(int from, float slope);
  int prelu(const std::string& weight_key, int from, int channels);
  int add(std::vector<int> from);
  int scale(int from, float factor);
  int concat(std::vector<int> from);
  int upsample_nearest(int from, int factor);
  int pixel_shuffle(int from, int factor);

  int out_channels(int node) const;
  // The tensor, or an error naming it when it is missing. Layers move the values out of the
  // state dict so that weights are not held twice.
  named_tensor& tensor(const std::string& key);

  // Finishes: sets output and metadata. The builder is spent afterwards.
  std::shared_ptr<const graph> finish(int output, int output_channels, int scale);

 private:
  int append(graph_node node, int channels);

  state_dict& weights_;
  graph graph_;
  std::vector<int> channels_;  // per node
};

}  // namespace comfydist::nn::esrgan
