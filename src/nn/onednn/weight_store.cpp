// Reorders weights once into the layouts the primitives prefer.
#include "nn/onednn/weight_store.hpp"

namespace comfydist::nn::onednn {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::memory weight_store::prepared(int node, int slot, const dnnl::memory::desc& plain,
                                    const float* values, const dnnl::memory::desc& want) {
  auto& list = cache_[{node, slot}];
  for (const auto& [desc, mem] : list) {
    if (desc == want) {
      return mem;
    }
  }
  // The graph stays alive as long as the compiled network; oneDNN only reads this source.
  dnnl::memory src(plain, engine_, const_cast<float*>(values));
  dnnl::memory dst(want, engine_);  // library-owned storage, lives with the memory object
  dnnl::stream stream(engine_);
  dnnl::reorder(src, dst).execute(stream, src, dst);
  stream.wait();
  list.emplace_back(want, dst);
  bytes_ += want.get_size();
  return dst;
}

dnnl::memory weight_store::conv_weights(const graph_node& n, int node,
                                        const dnnl::memory::desc& want) {
  const conv2d_params& p = n.conv;
  const dnnl::memory::desc plain({p.out_channels, p.in_channels, p.kernel_h, p.kernel_w}, dt::f32,
                                 tag::oihw);
  return prepared(node, 0, plain, p.weights.data(), want);
}

dnnl::memory weight_store::conv_bias(const graph_node& n, int node) {
  const dnnl::memory::desc plain({n.conv.out_channels}, dt::f32, tag::x);
  return prepared(node, 1, plain, n.conv.bias.data(), plain);
}

dnnl::memory weight_store::prelu_slopes(const graph_node& n, int node, int channels,
                                        const dnnl::memory::desc& want) {
  const int c = n.slopes.size() == 1 ? 1 : channels;
  const dnnl::memory::desc plain({1, c, 1, 1}, dt::f32, tag::abcd);
  return prepared(node, 2, plain, n.slopes.data(), want);
}

}  // namespace comfydist::nn::onednn
