// Executes a shape_program: allocates each value when produced, frees it after its last reader,
// reuses a dying residual's buffer as the destination of the convolution that sums into it.
#include <algorithm>
#include <unordered_map>

#include "nn/onednn/host_ops.hpp"
#include "nn/onednn/shape_program.hpp"

namespace comfydist::nn::onednn {
namespace {

struct live_value {
  dnnl::memory mem;
  buffer_ptr buf;  // empty for the caller's input
};

live_value make_value(const dnnl::memory::desc& desc, const dnnl::engine& engine,
                      memory_tracker& tracker, std::size_t capacity = 0) {
  live_value v;
  v.buf = allocate_buffer(std::max(capacity, desc.get_size()), tracker);
  v.mem = dnnl::memory(desc, engine, v.buf->data());
  return v;
}

}  // namespace

void shape_program::run(const host_tensor& input, host_tensor& out, memory_tracker& tracker,
                        dnnl::stream& stream) const {
  std::vector<live_value> values(graph_.nodes.size());
  // oneDNN takes a non-const handle; the input value is only ever read (never a reuse target).
  values[0].mem = dnnl::memory(value_desc_[0], engine_, const_cast<float*>(input.data.data()));
  buffer_ptr scratch;
  if (scratch_bytes_ > 0) {
    scratch = allocate_buffer(scratch_bytes_, tracker);
  }
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    const compiled_step& cs = steps_[s];
    const plan_step& step = *cs.step;
    std::vector<live_value> srcs;
    for (std::size_t k = 0; k < cs.fixes.size(); ++k) {
      const live_value& have = values[static_cast<std::size_t>(step.inputs[k])];
      if (!cs.fixes[k].needed) {
        srcs.push_back(have);
        continue;
      }
      live_value fixed = make_value(cs.fixes[k].desc, engine_, tracker);
      cs.fixes[k].prim.execute(stream, {{DNNL_ARG_FROM, have.mem}, {DNNL_ARG_TO, fixed.mem}});
      srcs.push_back(std::move(fixed));
    }
    const auto out = static_cast<std::size_t>(step.output);
    const int host = extend_into_[out];
    live_value* operand =
        step.sum_operand >= 0 ? &values[static_cast<std::size_t>(step.sum_operand)] : nullptr;
    // Reuse a dying residual's buffer only when nothing else (an input of this conv, a concat
    // sharing it) holds it and it is large enough for what this output must hold.
    const bool reuse =
        operand != nullptr && operand->buf && host < 0 &&
        plan_.last_use[static_cast<std::size_t>(step.sum_operand)] == static_cast<int>(s) &&
        step.sum_operand != graph_.output && operand->buf.use_count() == 1 && !cs.sum_fix.needed &&
        operand->buf->bytes() >= std::max(capacity_[out], cs.dst_desc.get_size());
    live_value dst;
    if (cs.in_place) {
      // The inputs already lie back to back in the first input's buffer.
      const live_value& first = values[static_cast<std::size_t>(step.inputs[0])];
      dst.buf = first.buf;
      dst.mem = dnnl::memory(cs.dst_desc, engine_, first.buf->data());
    } else if (host >= 0) {
      // Written right after `host` in its buffer, so that the concat reading both is free.
      const live_value& h = values[static_cast<std::size_t>(host)];
      dst.buf = h.buf;
      dst.mem = dnnl::memory(cs.dst_desc, engine_,
                             static_cast<char*>(h.buf->data()) +
                                 value_desc_[static_cast<std::size_t>(host)].get_size());
    } else if (reuse) {
      dst = std::move(*operand);
      *operand = live_value{};
    } else {
      dst = make_value(cs.dst_desc, engine_, tracker, capacity_[out]);
    }
    if (operand != nullptr && !reuse) {
      cs.sum_fix.prim.execute(stream, {{DNNL_ARG_FROM, operand->mem}, {DNNL_ARG_TO, dst.mem}});
    }
    std::unordered_map<int, dnnl::memory> args;
    if (cs.scratch_desc.get_size() > 0) {
      args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(cs.scratch_desc, engine_, scratch->data());
    }
    switch (cs.kind) {
      case op_kind::conv2d:
        args[DNNL_ARG_SRC] = srcs[0].mem;
        args[DNNL_ARG_WEIGHTS] = cs.weights;
        if (cs.bias) {
          args[DNNL_ARG_BIAS] = cs.bias;
        }
        args[DNNL_ARG_DST] = dst.mem;
        break;
      case op_kind::prelu:
        args[DNNL_ARG_WEIGHTS] = cs.weights;
        [[fallthrough]];
      case op_kind::relu:
      case op_kind::leaky_relu:
      case op_kind::scale:
      case op_kind::upsample_nearest:
        args[DNNL_ARG_SRC] = srcs[0].mem;
        args[DNNL_ARG_DST] = dst.mem;
        break;
      case op_kind::add:
      case op_kind::concat:
        for (std::size_t k = 0; k < srcs.size(); ++k) {
          args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(k)] = srcs[k].mem;
        }
        args[DNNL_ARG_DST] = dst.mem;
        break;
      case op_kind::pixel_shuffle: {
        const dnnl::memory::dims d = cs.dst_desc.dims();
        const node_shape& in = plan_.shapes[static_cast<std::size_t>(step.inputs[0])];
        const int factor = graph_.nodes[static_cast<std::size_t>(step.node)].factor;
        stream.wait();
        pixel_shuffle_nchw(static_cast<const float*>(srcs[0].mem.get_data_handle()),
                           static_cast<float*>(dst.mem.get_data_handle()), n_,
                           static_cast<int>(d[1]), static_cast<int>(in.height(h_)),
                           static_cast<int>(in.width(w_)), factor,
                           graph_.nodes[static_cast<std::size_t>(step.node)].order);
        break;
      }
      case op_kind::input:
        break;
    }
    if (cs.prim && !cs.in_place) {
      cs.prim.execute(stream, args);
    }
    srcs.clear();
    for (const int in : step.inputs) {
      if (plan_.last_use[static_cast<std::size_t>(in)] == static_cast<int>(s) &&
          in != graph_.output) {
        values[static_cast<std::size_t>(in)] = live_value{};
      }
    }
    values[static_cast<std::size_t>(step.output)] = std::move(dst);
  }
  const dnnl::memory::dims d = output_desc_.dims();
  out = host_tensor(tensor_shape{static_cast<int>(d[0]), static_cast<int>(d[1]),
                                 static_cast<int>(d[2]), static_cast<int>(d[3])});
  const std::size_t out_bytes = out.data.size() * sizeof(float);
  tracker.add(out_bytes);
  dnnl::memory out_mem(output_desc_, engine_, out.data.data());
  output_reorder_.execute(stream,
                          {{DNNL_ARG_FROM, values[static_cast<std::size_t>(graph_.output)].mem},
                           {DNNL_ARG_TO, out_mem}});
  stream.wait();
  tracker.remove(out_bytes);
}

}  // namespace comfydist::nn::onednn
