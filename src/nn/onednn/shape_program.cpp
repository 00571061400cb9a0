// Builds the primitives of one input size: layouts chosen by oneDNN (format any), reorders only
// where a producer's layout does not suit its consumer, post-ops fused into convolutions.
#include "nn/onednn/shape_program.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace comfydist::nn::onednn {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using dnnl::algorithm;

// Blocked activation layouts pad channels to this; concat offsets aligned to it keep the blocked
// layout (and oneDNN's fast concat).
constexpr int channel_block = 16;

void append_eltwise(dnnl::post_ops& po, const fused_eltwise& e) {
  switch (e.kind) {
    case op_kind::relu:
      po.append_eltwise(1.0F, algorithm::eltwise_relu, 0.0F, 0.0F);
      break;
    case op_kind::leaky_relu:
      po.append_eltwise(1.0F, algorithm::eltwise_relu, e.alpha, 0.0F);
      break;
    default:
      po.append_eltwise(1.0F, algorithm::eltwise_linear, e.alpha, 0.0F);
      break;
  }
}

// A slow reference or gemm-based kernel: worth a reorder into the layout oneDNN prefers.
bool slow_impl(const std::string& impl) {
  return impl.find("ref") != std::string::npos || impl.find("gemm") != std::string::npos;
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

}  // namespace

shape_program::shape_program(const graph& g, const exec_plan& plan, weight_store& weights,
                             const dnnl::engine& engine, int n, int h, int w,
                             bool create_primitives)
    : graph_(g),
      plan_(plan),
      weights_(weights),
      engine_(engine),
      n_(n),
      h_(h),
      w_(w),
      create_(create_primitives) {
  value_desc_.resize(g.nodes.size());
  value_desc_[0] = dnnl::memory::desc(dims_of(0), dt::f32, tag::nchw);
  plan_in_place_concats();
  for (const plan_step& step : plan.steps) {
    try {
      compile_step(step);
    } catch (const dnnl::error& e) {
      const graph_node& node = g.nodes[static_cast<std::size_t>(step.node)];
      throw std::runtime_error("oneDNN cannot run node '" + node.name + "' at " +
                               std::to_string(h) + "x" + std::to_string(w) + ": " + e.what());
    }
  }
  output_desc_ = dnnl::memory::desc(dims_of(g.output), dt::f32, tag::nchw);
  if (create_) {
    output_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(
        engine_, value_desc_[static_cast<std::size_t>(g.output)], engine_, output_desc_));
  }
}

dnnl::memory::dims shape_program::dims_of(int value) const {
  const node_shape& s = plan_.shapes[static_cast<std::size_t>(value)];
  const long long oh = s.height(h_);
  const long long ow = s.width(w_);
  if (oh <= 0 || ow <= 0) {
    throw std::invalid_argument("input " + std::to_string(h_) + "x" + std::to_string(w_) +
                                " is too small for this network");
  }
  return {n_, s.channels, oh, ow};
}

input_fix shape_program::fix_for(const dnnl::memory::desc& have,
                                 const dnnl::memory::desc& want) const {
  input_fix fix;
  fix.desc = want;
  fix.needed = !(have == want);
  if (create_) {
    fix.prim = dnnl::reorder(dnnl::reorder::primitive_desc(engine_, have, engine_, want));
  }
  return fix;
}

void shape_program::compile_step(const plan_step& step) {
  compiled_step cs;
  cs.step = &step;
  cs.kind = graph_.nodes[static_cast<std::size_t>(step.node)].kind;
  const std::size_t primary = step.sum_operand >= 0 ? step.inputs.size() - 1 : step.inputs.size();
  cs.fixes.resize(primary);
  if (cs.kind == op_kind::conv2d) {
    compile_conv(cs);
  } else {
    compile_other(cs);
  }
  value_desc_[static_cast<std::size_t>(step.output)] = cs.dst_desc;
  capacity_[static_cast<std::size_t>(step.output)] =
      std::max(capacity_[static_cast<std::size_t>(step.output)], cs.dst_desc.get_size());
  scratch_bytes_ = std::max(scratch_bytes_, cs.scratch_desc.get_size());
  steps_.push_back(std::move(cs));
}

void shape_program::compile_conv(compiled_step& cs) {
  const plan_step& step = *cs.step;
  const graph_node& node = graph_.nodes[static_cast<std::size_t>(step.node)];
  const conv2d_params& p = node.conv;
  dnnl::post_ops po;
  for (const fused_eltwise& e : step.before_sum) {
    append_eltwise(po, e);
  }
  if (step.sum_operand >= 0) {
    po.append_sum(1.0F);
  }
  for (const fused_eltwise& e : step.after_sum) {
    append_eltwise(po, e);
  }
  dnnl::primitive_attr attr = user_scratchpad();
  attr.set_post_ops(po);
  const dnnl::memory::desc weights_any({p.out_channels, p.in_channels, p.kernel_h, p.kernel_w},
                                       dt::f32, tag::any);
  const dnnl::memory::desc bias_md({p.out_channels}, dt::f32, tag::x);
  const dnnl::memory::dims dst_dims = dims_of(step.output);
  const auto build = [&](const dnnl::memory::desc& src, const dnnl::memory::desc& dst) {
    const dnnl::memory::dims strides{1, 1};
    const dnnl::memory::dims pad_l{p.pad_top, p.pad_left};
    const dnnl::memory::dims pad_r{p.pad_bottom, p.pad_right};
    if (p.bias.empty()) {
      return dnnl::convolution_forward::primitive_desc(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                          algorithm::convolution_direct, src, weights_any, dst,
                                          strides, pad_l, pad_r),
          attr, engine_);
    }
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                        algorithm::convolution_direct, src, weights_any, bias_md,
                                        dst, strides, pad_l, pad_r),
        attr, engine_);
  };
  // Layout choices in order of preference; a reference (slow) kernel is only taken when nothing
  // else exists: the producer's layout as is, then oneDNN's choice, then without the blocked
  // output an in-place concat asks for.
  const dnnl::memory::desc& have = value_desc_[static_cast<std::size_t>(step.inputs[0])];
  const dnnl::memory::desc src_any(have.dims(), dt::f32, tag::any);
  const bool forced = force_blocked_[static_cast<std::size_t>(step.output)];
  const dnnl::memory::desc dst_pref(dst_dims, dt::f32, forced ? tag::aBcd16b : tag::any);
  const dnnl::memory::desc dst_any(dst_dims, dt::f32, tag::any);
  const std::vector<std::pair<const dnnl::memory::desc*, const dnnl::memory::desc*>> choices = {
      {&have, &dst_pref}, {&src_any, &dst_pref}, {&have, &dst_any}, {&src_any, &dst_any}};
  dnnl::convolution_forward::primitive_desc pd;
  for (const auto& [src, dst] : choices) {
    try {
      pd = build(*src, *dst);
    } catch (const dnnl::error&) {
      continue;
    }
    if (!slow_impl(pd.impl_info_str())) {
      break;
    }
  }
  if (!pd) {
    pd = build(src_any, dst_any);
  }
  if (!(pd.src_desc() == have)) {
    cs.fixes[0] = fix_for(have, pd.src_desc());
  }
  cs.prim = create_ ? dnnl::primitive(dnnl::convolution_forward(pd)) : dnnl::primitive();
  cs.dst_desc = pd.dst_desc();
  cs.weights = weights_.conv_weights(node, step.node, pd.weights_desc());
  if (!p.bias.empty()) {
    cs.bias = weights_.conv_bias(node, step.node);
  }
  if (step.sum_operand >= 0) {
    cs.sum_fix = fix_for(value_desc_[static_cast<std::size_t>(step.sum_operand)], cs.dst_desc);
  }
  cs.scratch_desc = pd.scratchpad_desc();
  impls_.push_back(node.name + ": " + pd.impl_info_str());
}

void shape_program::compile_other(compiled_step& cs) {
  const plan_step& step = *cs.step;
  const graph_node& node = graph_.nodes[static_cast<std::size_t>(step.node)];
  const dnnl::memory::desc& have = value_desc_[static_cast<std::size_t>(step.inputs[0])];
  const auto fwd = dnnl::prop_kind::forward_inference;
  const dnnl::primitive_attr attr = user_scratchpad();
  std::string impl = "own loop";
  switch (cs.kind) {
    case op_kind::relu:
    case op_kind::leaky_relu:
    case op_kind::scale: {
      const bool linear = cs.kind == op_kind::scale;
      const float alpha = cs.kind == op_kind::relu ? 0.0F : node.alpha;
      const dnnl::eltwise_forward::primitive_desc pd(
          dnnl::eltwise_forward::desc(
              fwd, linear ? algorithm::eltwise_linear : algorithm::eltwise_relu, have, alpha, 0.0F),
          attr, engine_);
      cs.prim = create_ ? dnnl::primitive(dnnl::eltwise_forward(pd)) : dnnl::primitive();
      cs.dst_desc = pd.dst_desc();
      cs.scratch_desc = pd.scratchpad_desc();
      impl = pd.impl_info_str();
      break;
    }
    case op_kind::prelu: {
      const int channels = plan_.shapes[static_cast<std::size_t>(step.inputs[0])].channels;
      const int c = node.slopes.size() == 1 ? 1 : channels;
      const dnnl::memory::desc slopes_any({1, c, 1, 1}, dt::f32, tag::any);
      const dnnl::prelu_forward::primitive_desc pd(dnnl::prelu_forward::desc(fwd, have, slopes_any),
                                                   attr, engine_);
      cs.prim = create_ ? dnnl::primitive(dnnl::prelu_forward(pd)) : dnnl::primitive();
      cs.dst_desc = pd.dst_desc();
      cs.weights = weights_.prelu_slopes(node, step.node, channels, pd.weights_desc());
      cs.scratch_desc = pd.scratchpad_desc();
      impl = pd.impl_info_str();
      break;
    }
    case op_kind::add: {
      // Inputs brought to the first input's layout: oneDNN's fast sum needs equal layouts.
      std::vector<dnnl::memory::desc> srcs;
      for (std::size_t k = 0; k < step.inputs.size(); ++k) {
        const dnnl::memory::desc& d = value_desc_[static_cast<std::size_t>(step.inputs[k])];
        if (!(d == have)) {
          cs.fixes[k] = fix_for(d, have);
        }
        srcs.push_back(have);
      }
      const std::vector<float> scales(srcs.size(), 1.0F);
      const dnnl::sum::primitive_desc pd(have, scales, srcs, engine_, attr);
      cs.prim = create_ ? dnnl::primitive(dnnl::sum(pd)) : dnnl::primitive();
      cs.dst_desc = pd.dst_desc();
      cs.scratch_desc = pd.scratchpad_desc();
      impl = pd.impl_info_str();
      break;
    }
    case op_kind::concat: {
      if (try_in_place_concat(cs)) {
        impl = "in place";
        break;
      }
      std::vector<dnnl::memory::desc> srcs;
      bool aligned = true;
      int offset = 0;
      for (const int in : step.inputs) {
        srcs.push_back(value_desc_[static_cast<std::size_t>(in)]);
        aligned = aligned && offset % channel_block == 0;
        offset += plan_.shapes[static_cast<std::size_t>(in)].channels;
      }
      // Unaligned channel offsets cannot live in a blocked layout: channels-last keeps them.
      const dnnl::memory::desc dst(dims_of(step.output), dt::f32, aligned ? tag::any : tag::nhwc);
      const dnnl::concat::primitive_desc pd(dst, 1, srcs, engine_, attr);
      cs.prim = create_ ? dnnl::primitive(dnnl::concat(pd)) : dnnl::primitive();
      cs.dst_desc = pd.dst_desc();
      cs.scratch_desc = pd.scratchpad_desc();
      impl = pd.impl_info_str();
      break;
    }
    case op_kind::upsample_nearest: {
      const dnnl::memory::desc dst(dims_of(step.output), dt::f32, tag::any);
      const dnnl::resampling_forward::primitive_desc pd(
          dnnl::resampling_forward::desc(fwd, algorithm::resampling_nearest, have, dst), attr,
          engine_);
      cs.prim = create_ ? dnnl::primitive(dnnl::resampling_forward(pd)) : dnnl::primitive();
      cs.dst_desc = pd.dst_desc();
      cs.scratch_desc = pd.scratchpad_desc();
      impl = pd.impl_info_str();
      break;
    }
    case op_kind::pixel_shuffle:
      cs.fixes[0] = fix_for(have, dnnl::memory::desc(dims_of(step.inputs[0]), dt::f32, tag::nchw));
      cs.dst_desc = dnnl::memory::desc(dims_of(step.output), dt::f32, tag::nchw);
      break;
    default:
      throw std::invalid_argument("onednn backend: unexpected op in node '" + node.name + "'");
  }
  impls_.push_back(node.name + ": " + impl);
}

std::vector<std::string> shape_program::implementations() const {
  return impls_;
}

}  // namespace comfydist::nn::onednn
