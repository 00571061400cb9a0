// Naive, obviously-correct implementations of every graph op on NCHW host tensors, used by tests
// to cross-check the optimised backends.
#pragma once

#include "nn/graph.hpp"
#include "nn/host_tensor.hpp"

namespace comfydist::nn::reference {

host_tensor conv2d(const host_tensor& x, const conv2d_params& p);
host_tensor relu(const host_tensor& x);
host_tensor leaky_relu(const host_tensor& x, float alpha);
host_tensor prelu(const host_tensor& x, const std::vector<float>& slopes);
host_tensor add(const std::vector<const host_tensor*>& xs);
host_tensor scale(const host_tensor& x, float alpha);
host_tensor concat(const std::vector<const host_tensor*>& xs);
host_tensor pixel_shuffle(const host_tensor& x, int factor, shuffle_order order);
host_tensor upsample_nearest(const host_tensor& x, int factor);

// Runs a whole (validated) graph node by node.
host_tensor run_graph(const graph& g, const host_tensor& input);

}  // namespace comfydist::nn::reference
