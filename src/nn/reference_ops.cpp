// Naive reference ops: plain loops with double accumulation, no layout tricks.
#include "nn/reference_ops.hpp"

#include <stdexcept>

namespace comfydist::nn::reference {
namespace {

std::size_t at(const tensor_shape& s, int n, int c, int h, int w) {
  return ((static_cast<std::size_t>(n) * s.c + c) * s.h + h) * s.w + w;
}

host_tensor map(const host_tensor& x, float (*f)(float, float), float a) {
  host_tensor y(x.shape);
  for (std::size_t i = 0; i < x.data.size(); ++i) {
    y.data[i] = f(x.data[i], a);
  }
  return y;
}

}  // namespace

host_tensor conv2d(const host_tensor& x, const conv2d_params& p) {
  const tensor_shape& s = x.shape;
  tensor_shape os{s.n, p.out_channels, s.h + p.pad_top + p.pad_bottom - p.kernel_h + 1,
                  s.w + p.pad_left + p.pad_right - p.kernel_w + 1};
  host_tensor y(os);
  for (int n = 0; n < s.n; ++n) {
    for (int o = 0; o < os.c; ++o) {
      for (int oh = 0; oh < os.h; ++oh) {
        for (int ow = 0; ow < os.w; ++ow) {
          double acc = p.bias.empty() ? 0.0 : p.bias[static_cast<std::size_t>(o)];
          for (int i = 0; i < s.c; ++i) {
            for (int ky = 0; ky < p.kernel_h; ++ky) {
              const int ih = oh + ky - p.pad_top;
              if (ih < 0 || ih >= s.h) {
                continue;
              }
              for (int kx = 0; kx < p.kernel_w; ++kx) {
                const int iw = ow + kx - p.pad_left;
                if (iw < 0 || iw >= s.w) {
                  continue;
                }
                const std::size_t wi =
                    ((static_cast<std::size_t>(o) * s.c + i) * p.kernel_h + ky) * p.kernel_w + kx;
                acc += static_cast<double>(p.weights[wi]) * x.data[at(s, n, i, ih, iw)];
              }
            }
          }
          y.data[at(os, n, o, oh, ow)] = static_cast<float>(acc);
        }
      }
    }
  }
  return y;
}

host_tensor relu(const host_tensor& x) {
  return map(
      x, [](float v, float) { return v > 0.0F ? v : 0.0F; }, 0.0F);
}

host_tensor leaky_relu(const host_tensor& x, float alpha) {
  return map(
      x, [](float v, float a) { return v > 0.0F ? v : v * a; }, alpha);
}

host_tensor scale(const host_tensor& x, float alpha) {
  return map(
      x, [](float v, float a) { return v * a; }, alpha);
}

host_tensor prelu(const host_tensor& x, const std::vector<float>& slopes) {
  host_tensor y(x.shape);
  const tensor_shape& s = x.shape;
  for (int n = 0; n < s.n; ++n) {
    for (int c = 0; c < s.c; ++c) {
      const float a = slopes.size() == 1 ? slopes[0] : slopes[static_cast<std::size_t>(c)];
      for (int h = 0; h < s.h; ++h) {
        for (int w = 0; w < s.w; ++w) {
          const float v = x.data[at(s, n, c, h, w)];
          y.data[at(s, n, c, h, w)] = v > 0.0F ? v : v * a;
        }
      }
    }
  }
  return y;
}

host_tensor add(const std::vector<const host_tensor*>& xs) {
  host_tensor y(xs.at(0)->shape);
  for (const host_tensor* x : xs) {
    if (!(x->shape == y.shape)) {
      throw std::invalid_argument("reference add: shapes differ");
    }
    for (std::size_t i = 0; i < y.data.size(); ++i) {
      y.data[i] += x->data[i];
    }
  }
  return y;
}

host_tensor concat(const std::vector<const host_tensor*>& xs) {
  tensor_shape os = xs.at(0)->shape;
  os.c = 0;
  for (const host_tensor* x : xs) {
    os.c += x->shape.c;
  }
  host_tensor y(os);
  for (int n = 0; n < os.n; ++n) {
    int base = 0;
    for (const host_tensor* x : xs) {
      for (int c = 0; c < x->shape.c; ++c) {
        for (int h = 0; h < os.h; ++h) {
          for (int w = 0; w < os.w; ++w) {
            y.data[at(os, n, base + c, h, w)] = x->data[at(x->shape, n, c, h, w)];
          }
        }
      }
      base += x->shape.c;
    }
  }
  return y;
}

host_tensor pixel_shuffle(const host_tensor& x, int s, shuffle_order order) {
  const tensor_shape& is = x.shape;
  const int oc = is.c / (s * s);
  tensor_shape os{is.n, oc, is.h * s, is.w * s};
  host_tensor y(os);
  for (int n = 0; n < os.n; ++n) {
    for (int c = 0; c < oc; ++c) {
      for (int oh = 0; oh < os.h; ++oh) {
        for (int ow = 0; ow < os.w; ++ow) {
          const int i = oh % s;
          const int j = ow % s;
          const int ic = order == shuffle_order::crd ? (c * s + i) * s + j : (i * s + j) * oc + c;
          y.data[at(os, n, c, oh, ow)] = x.data[at(is, n, ic, oh / s, ow / s)];
        }
      }
    }
  }
  return y;
}

host_tensor upsample_nearest(const host_tensor& x, int s) {
  const tensor_shape& is = x.shape;
  tensor_shape os{is.n, is.c, is.h * s, is.w * s};
  host_tensor y(os);
  for (int n = 0; n < os.n; ++n) {
    for (int c = 0; c < os.c; ++c) {
      for (int oh = 0; oh < os.h; ++oh) {
        for (int ow = 0; ow < os.w; ++ow) {
          y.data[at(os, n, c, oh, ow)] = x.data[at(is, n, c, oh / s, ow / s)];
        }
      }
    }
  }
  return y;
}

host_tensor run_graph(const graph& g, const host_tensor& input) {
  validate_graph(g);
  std::vector<host_tensor> values(g.nodes.size());
  values[0] = input;
  for (std::size_t i = 1; i < g.nodes.size(); ++i) {
    const graph_node& n = g.nodes[i];
    std::vector<const host_tensor*> ins;
    for (const int in : n.inputs) {
      ins.push_back(&values[static_cast<std::size_t>(in)]);
    }
    const host_tensor& x = *ins[0];
    switch (n.kind) {
      case op_kind::conv2d:
        values[i] = conv2d(x, n.conv);
        break;
      case op_kind::relu:
        values[i] = relu(x);
        break;
      case op_kind::leaky_relu:
        values[i] = leaky_relu(x, n.alpha);
        break;
      case op_kind::prelu:
        values[i] = prelu(x, n.slopes);
        break;
      case op_kind::add:
        values[i] = add(ins);
        break;
      case op_kind::scale:
        values[i] = scale(x, n.alpha);
        break;
      case op_kind::concat:
        values[i] = concat(ins);
        break;
      case op_kind::pixel_shuffle:
        values[i] = pixel_shuffle(x, n.factor, n.order);
        break;
      case op_kind::upsample_nearest:
        values[i] = upsample_nearest(x, n.factor);
        break;
      case op_kind::input:
        throw std::invalid_argument("reference: second input node");
    }
  }
  return values[static_cast<std::size_t>(g.output)];
}

}  // namespace comfydist::nn::reference
