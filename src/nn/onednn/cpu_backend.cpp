// The oneDNN CPU backend: compiles a graph (upsample folding, fusion plan, weights reordered at
// compile time) and keeps one set of primitives per input size.
#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include "nn/backend.hpp"
#include "nn/onednn/exec_plan.hpp"
#include "nn/onednn/omp_threads.hpp"
#include "nn/onednn/peak_estimate.hpp"
#include "nn/onednn/scale_folding.hpp"
#include "nn/onednn/shape_program.hpp"
#include "nn/onednn/upsample_conv_fusion.hpp"

namespace comfydist::nn {
namespace {

using onednn::exec_plan;
using onednn::shape_program;

// Size whose layouts are chosen at compile time, so weights are reordered before the first run.
constexpr int warm_size = 64;

class onednn_network final : public compiled_network {
 public:
  onednn_network(std::shared_ptr<const graph> source, int threads)
      : source_(std::move(source)),
        graph_(onednn::fold_scale_into_conv(onednn::fuse_upsample_into_conv(*source_))),
        plan_(onednn::make_exec_plan(graph_)),
        engine_(dnnl::engine::kind::cpu, 0),
        weights_(engine_),
        threads_(threads) {
    onednn::set_omp_threads(threads_);
    // Layouts only (cheap): reorders the weights now rather than during the first run.
    const shape_program layouts(graph_, plan_, weights_, engine_, 1, warm_size, warm_size, false);
    max_scratch_ = layouts.scratch_bytes();
  }

  host_tensor run(const host_tensor& input) override {
    const tensor_shape& s = input.shape;
    if (s.c != graph_.input_channels) {
      throw std::invalid_argument("the model expects " + std::to_string(graph_.input_channels) +
                                  " input channels, got " + std::to_string(s.c));
    }
    if (s.n <= 0 || s.h <= 0 || s.w <= 0 || input.data.size() != s.elements()) {
      throw std::invalid_argument("network input is empty or its size does not match its shape");
    }
    onednn::set_omp_threads(threads_);
    const shape_program& program = program_for(s.n, s.h, s.w);
    onednn::memory_tracker tracker;
    host_tensor out;
    dnnl::stream stream(engine_);
    try {
      program.run(input, out, tracker, stream);
    } catch (const dnnl::error& e) {
      if (e.status == dnnl_out_of_memory) {
        throw std::bad_alloc();
      }
      throw std::runtime_error(std::string("oneDNN: ") + e.what());
    }
    last_peak_ = tracker.peak();
    return out;
  }

  std::size_t estimate_peak_bytes(int height, int width) const override {
    return onednn::estimate_peak_bytes(graph_, plan_, height, width, max_scratch_);
  }

  std::size_t last_peak_bytes() const override { return last_peak_; }
  std::size_t weight_bytes() const override { return weights_.bytes(); }

 private:
  const shape_program& program_for(int n, int h, int w) {
    std::lock_guard lock(mutex_);
    const auto key = std::make_tuple(n, h, w);
    auto it = programs_.find(key);
    if (it == programs_.end()) {
      auto program = std::make_unique<shape_program>(graph_, plan_, weights_, engine_, n, h, w);
      max_scratch_ = std::max(max_scratch_, program->scratch_bytes());
      it = programs_.emplace(key, std::move(program)).first;
    }
    return *it->second;
  }

  std::shared_ptr<const graph> source_;  // keeps the caller's graph (and its names) alive
  graph graph_;
  exec_plan plan_;
  dnnl::engine engine_;
  onednn::weight_store weights_;
  int threads_;
  std::mutex mutex_;
  std::map<std::tuple<int, int, int>, std::unique_ptr<shape_program>> programs_;
  std::size_t max_scratch_ = 0;
  std::size_t last_peak_ = 0;
};

class onednn_backend final : public backend {
 public:
  explicit onednn_backend(int threads) : threads_(threads) {}
  std::string name() const override { return "onednn-cpu"; }
  std::unique_ptr<compiled_network> compile(std::shared_ptr<const graph> network) override {
    if (!network) {
      throw std::invalid_argument("compile: no network");
    }
    validate_graph(*network);
    return std::make_unique<onednn_network>(std::move(network), threads_);
  }

 private:
  int threads_;
};

}  // namespace

std::unique_ptr<backend> make_cpu_backend(int threads) {
  return std::make_unique<onednn_backend>(threads);
}

}  // namespace comfydist::nn
