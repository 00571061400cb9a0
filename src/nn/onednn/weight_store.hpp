// Weights of a compiled network in the layouts its primitives asked for: each tensor is reordered
// from the graph's plain layout once per requested layout (in practice once) and then shared.
#pragma once

#include <cstddef>
#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <utility>
#include <vector>

#include "nn/graph.hpp"

namespace comfydist::nn::onednn {

class weight_store {
 public:
  explicit weight_store(const dnnl::engine& engine) : engine_(engine) {}

  // Conv weights of graph node `node` (OIHW in the graph) in layout `want`.
  dnnl::memory conv_weights(const graph_node& n, int node, const dnnl::memory::desc& want);
  // Conv bias (plain, as stored).
  dnnl::memory conv_bias(const graph_node& n, int node);
  // PReLU slopes as a 1×C×1×1 tensor in layout `want`.
  dnnl::memory prelu_slopes(const graph_node& n, int node, int channels,
                            const dnnl::memory::desc& want);

  std::size_t bytes() const { return bytes_; }

 private:
  dnnl::memory prepared(int node, int slot, const dnnl::memory::desc& plain, const float* values,
                        const dnnl::memory::desc& want);

  dnnl::engine engine_;
  // (node, slot) → prepared copies, each owning its storage.
  std::map<std::pair<int, int>, std::vector<std::pair<dnnl::memory::desc, dnnl::memory>>> cache_;
  std::size_t bytes_ = 0;
};

}  // namespace comfydist::nn::onednn
