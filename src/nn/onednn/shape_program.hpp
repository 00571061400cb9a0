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
  bool in_place = false;            // concat whose inputs already lie back to back
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
  void plan_in_place_concats();
  bool try_in_place_concat(compiled_step& cs);
  dnnl::memory::desc blocked_desc(int value) const;
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
  // Dense-block concatenation without copies (batch 1, channel-blocked layout, where a tensor of
  // C channels is a prefix of the same tensor with more channels): concat(A, B) is A's buffer
  // with B written right after A's bytes by B's producer.
  std::vector<bool> concat_candidate_;  // per value: a concat that may be done in place
  std::vector<bool> force_blocked_;     // per value: its producing conv writes the blocked layout
  std::vector<int> extend_into_;        // per value: written after this value's bytes, or -1
  std::vector<int> root_;               // per value: the value owning its buffer
  std::vector<std::size_t> capacity_;   // per value: bytes to allocate when it owns its buffer
  std::vector<compiled_step> steps_;
  dnnl::primitive output_reorder_;
  friend class program_runner;
  dnnl::memory::desc output_desc_;
  std::size_t scratch_bytes_ = 0;
  std::vector<std::string> impls_;
};

}  // namespace comfydist::nn::onednn
