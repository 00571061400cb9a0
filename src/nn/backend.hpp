// The narrow interface between networks and compute: a backend compiles a graph once (weights
// reordered, primitives prepared) and runs it on inputs of any size. The oneDNN CPU backend lives
// in onednn/; a CUDA/cuDNN backend can be added beside it without touching loaders or nodes.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "nn/graph.hpp"
#include "nn/host_tensor.hpp"

namespace comfydist::nn {

class compiled_network {
 public:
  virtual ~compiled_network() = default;
  // Runs the network on an NCHW input (values already multiplied by input_multiplier). Thread
  // safety: one run at a time per compiled_network. Throws std::bad_alloc when memory runs out
  // (callers retry with smaller tiles) and std::invalid_argument for a wrong channel count.
  virtual host_tensor run(const host_tensor& input) = 0;
  // Largest working memory (bytes) a run of the given input size needs, estimated before running.
  virtual std::size_t estimate_peak_bytes(int height, int width) const = 0;
  // Working memory the last run actually held at its peak.
  virtual std::size_t last_peak_bytes() const = 0;
  // Bytes held by the prepared weights.
  virtual std::size_t weight_bytes() const = 0;
};

class backend {
 public:
  virtual ~backend() = default;
  virtual std::string name() const = 0;  // e.g. "onednn-cpu"
  virtual std::unique_ptr<compiled_network> compile(std::shared_ptr<const graph> network) = 0;
};

// The CPU backend on oneDNN with `threads` threads (0: all cores).
std::unique_ptr<backend> make_cpu_backend(int threads);

}  // namespace comfydist::nn
