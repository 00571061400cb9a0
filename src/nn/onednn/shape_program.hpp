// The oneDNN primitives of one compiled network for one input size (N×H×W): created once, reused
// by every run of that size. Weights are shared across sizes through weight_store. Without
// create_primitives only the layouts are chosen (and weights reordered): no kernel is generated.
#pragma once

#include <cstddef>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "nn/host_tensor.hpp"
#include "nn/onednn/exec_plan.hpp"
#include "nn/onednn/memory_tracker.hpp"
#include "nn/onednn/weight_store.hpp"

namespace comfydist::nn::onednn {

// A reorder of one step input into the layout its primitive wants (absent when it already fits).
struct input_fix {
  bool needed = false;
  dnnl::memory::desc desc;
  dnnl::primitive prim;
};

struct compiled_step {
  const plan_step* step = nullptr;
  op_kind kind = op_kind::conv2d;
  dnnl::primitive prim;          // absent for pixel_shuffle (own loop)
  std::vector<input_fix> fixes;  // one per primary input (the sum operand excluded)
  dnnl::memory::desc dst_desc;
  dnnl::memory weights;             // conv, prelu
  dnnl::memory bias;                // conv with bias
  input_fix sum_fix;                // sum operand → dst layout when it cannot be reused in place
  dnnl::memory::desc scratch_desc;  // user-managed scratchpad (zero size: none)
};

class shape_program {
 public:
  shape_program(const graph& g, const exec_plan& plan, weight_store& weights,
                const dnnl::engine& engine, int n, int h, int w, bool create_primitives = true);

  // Runs the network; `out` receives the NCHW output. Working memory is counted in `tracker`.
  void run(const host_tensor& input, host_tensor& out, memory_tracker& tracker,
           dnnl::stream& stream) const;

  std::size_t scratch_bytes() const { return scratch_bytes_; }
  // Primitive implementations used, for diagnostics ("jit:avx512_core" ...).
  std::vector<std::string> implementations() const;

 private:
  void compile_step(const plan_step& step);
  void compile_conv(compiled_step& cs);
  void compile_other(compiled_step& cs);
  input_fix fix_for(const dnnl::memory::desc& have, const dnnl::memory::desc& want) const;
  dnnl::memory::dims dims_of(int value) const;

  const graph& graph_;
  const exec_plan& plan_;
  weight_store& weights_;
  dnnl::engine engine_;
  int n_;
  int h_;
  int w_;
  bool create_;
  std::vector<dnnl::memory::desc> value_desc_;  // per value id, once computed
  std::vector<compiled_step> steps_;
  dnnl::primitive output_reorder_;
  dnnl::memory::desc output_desc_;
  std::size_t scratch_bytes_ = 0;
  std::vector<std::string> impls_;
};

}  // namespace comfydist::nn::onednn
