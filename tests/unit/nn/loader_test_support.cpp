// Fixture reading and the naive graph evaluator for the checkpoint-loader tests.
#include "loader_test_support.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace comfydist::nn::loader_test {

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(COMFYDIST_SOURCE_DIR) / "tests" / "fixtures" / "upscale" / name;
}

host_tensor read_f32_fixture(const std::string& stem) {
  std::ifstream meta(fixture(stem + ".json"));
  const auto shape = nlohmann::json::parse(meta).at("shape");
  host_tensor t(tensor_shape{shape[0].get<int>(), shape[1].get<int>(), shape[2].get<int>(),
                             shape[3].get<int>()});
  std::ifstream data(fixture(stem + ".f32"), std::ios::binary);
  data.read(reinterpret_cast<char*>(t.data.data()),
            static_cast<std::streamsize>(t.data.size() * sizeof(float)));
  if (static_cast<std::size_t>(data.gcount()) != t.data.size() * sizeof(float)) {
    throw std::runtime_error("short fixture " + stem);
  }
  return t;
}

namespace {

float& at(host_tensor& t, int n, int c, int y, int x) {
  return t.data[((static_cast<std::size_t>(n) * t.shape.c + c) * t.shape.h + y) * t.shape.w + x];
}
float at(const host_tensor& t, int n, int c, int y, int x) {
  return t.data[((static_cast<std::size_t>(n) * t.shape.c + c) * t.shape.h + y) * t.shape.w + x];
}

host_tensor conv(const conv2d_params& p, const host_tensor& in) {
  const int oh = in.shape.h + p.pad_top + p.pad_bottom - p.kernel_h + 1;
  const int ow = in.shape.w + p.pad_left + p.pad_right - p.kernel_w + 1;
  host_tensor out(tensor_shape{in.shape.n, p.out_channels, oh, ow});
  for (int n = 0; n < in.shape.n; ++n) {
    for (int o = 0; o < p.out_channels; ++o) {
      for (int y = 0; y < oh; ++y) {
        for (int x = 0; x < ow; ++x) {
          double sum = p.bias.empty() ? 0.0 : p.bias[static_cast<std::size_t>(o)];
          for (int i = 0; i < p.in_channels; ++i) {
            for (int ky = 0; ky < p.kernel_h; ++ky) {
              const int sy = y + ky - p.pad_top;
              if (sy < 0 || sy >= in.shape.h) {
                continue;
              }
              for (int kx = 0; kx < p.kernel_w; ++kx) {
                const int sx = x + kx - p.pad_left;
                if (sx < 0 || sx >= in.shape.w) {
                  continue;
                }
                const std::size_t w =
                    ((static_cast<std::size_t>(o) * p.in_channels + i) * p.kernel_h + ky) *
                        p.kernel_w +
                    kx;
                sum += static_cast<double>(p.weights[w]) * at(in, n, i, sy, sx);
              }
            }
          }
          at(out, n, o, y, x) = static_cast<float>(sum);
        }
      }
    }
  }
  return out;
}

host_tensor resample(const host_tensor& in, int c_out, int factor, bool shuffle) {
  host_tensor out(tensor_shape{in.shape.n, c_out, in.shape.h * factor, in.shape.w * factor});
  for (int n = 0; n < in.shape.n; ++n) {
    for (int c = 0; c < c_out; ++c) {
      for (int y = 0; y < out.shape.h; ++y) {
        for (int x = 0; x < out.shape.w; ++x) {
          // CRD: out[c, h*s+i, w*s+j] = in[c*s*s + i*s + j, h, w]
          const int source_c =
              shuffle ? c * factor * factor + (y % factor) * factor + x % factor : c;
          at(out, n, c, y, x) = at(in, n, source_c, y / factor, x / factor);
        }
      }
    }
  }
  return out;
}

}  // namespace

host_tensor naive_run(const graph& g, const host_tensor& input) {
  std::vector<host_tensor> values(g.nodes.size());
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const graph_node& node = g.nodes[i];
    auto in = [&](std::size_t k) -> const host_tensor& {
      return values[static_cast<std::size_t>(node.inputs.at(k))];
    };
    host_tensor out;
    switch (node.kind) {
      case op_kind::input:
        out = input;
        break;
      case op_kind::conv2d:
        out = conv(node.conv, in(0));
        break;
      case op_kind::relu:
      case op_kind::leaky_relu:
      case op_kind::prelu:
      case op_kind::scale: {
        out = in(0);
        const std::size_t plane = static_cast<std::size_t>(out.shape.h) * out.shape.w;
        for (std::size_t e = 0; e < out.data.size(); ++e) {
          float& v = out.data[e];
          const std::size_t c = (e / plane) % static_cast<std::size_t>(out.shape.c);
          if (node.kind == op_kind::scale) {
            v *= node.alpha;
          } else if (v < 0) {
            v *= node.kind == op_kind::relu         ? 0.0F
                 : node.kind == op_kind::leaky_relu ? node.alpha
                                                    : node.slopes.at(c);
          }
        }
        break;
      }
      case op_kind::add:
        out = in(0);
        for (std::size_t k = 1; k < node.inputs.size(); ++k) {
          for (std::size_t e = 0; e < out.data.size(); ++e) {
            out.data[e] += in(k).data.at(e);
          }
        }
        break;
      case op_kind::concat: {
        tensor_shape s = in(0).shape;
        s.c = 0;
        for (std::size_t k = 0; k < node.inputs.size(); ++k) {
          s.c += in(k).shape.c;
        }
        out = host_tensor(s);
        for (int n = 0; n < s.n; ++n) {
          int c0 = 0;
          for (std::size_t k = 0; k < node.inputs.size(); ++k) {
            for (int c = 0; c < in(k).shape.c; ++c) {
              for (int y = 0; y < s.h; ++y) {
                for (int x = 0; x < s.w; ++x) {
                  at(out, n, c0 + c, y, x) = at(in(k), n, c, y, x);
                }
              }
            }
            c0 += in(k).shape.c;
          }
        }
        break;
      }
      case op_kind::pixel_shuffle:
        if (node.order != shuffle_order::crd) {
          throw std::runtime_error("naive_run: only CRD pixel shuffle");
        }
        out = resample(in(0), in(0).shape.c / (node.factor * node.factor), node.factor, true);
        break;
      case op_kind::upsample_nearest:
        out = resample(in(0), in(0).shape.c, node.factor, false);
        break;
    }
    values[i] = std::move(out);
  }
  return values[static_cast<std::size_t>(g.output)];
}

float max_abs_diff(const host_tensor& a, const host_tensor& b) {
  if (!(a.shape == b.shape)) {
    return INFINITY;
  }
  float worst = 0.0F;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    worst = std::max(worst, std::abs(a.data[i] - b.data[i]));
  }
  return worst;
}

}  // namespace comfydist::nn::loader_test
