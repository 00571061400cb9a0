// Graph validation, shape inference and work per pixel for the network IR.
#include "nn/graph.hpp"

#include <stdexcept>
#include <string>

#include "nn/graph_shapes.hpp"

namespace comfydist::nn {
namespace {

// Far beyond any real model; keeps products of sizes well inside 64 bits.
constexpr long long max_channels = 1 << 16;
constexpr long long max_kernel = 64;
constexpr long long max_factor = 64;
constexpr long long max_multiplier = 1 << 12;

[[noreturn]] void fail(const graph_node& n, int index, const std::string& what) {
  throw std::invalid_argument("graph node " + std::to_string(index) + " ('" + n.name +
                              "'): " + what);
}

const char* kind_name(op_kind k) {
  switch (k) {
    case op_kind::input:
      return "input";
    case op_kind::conv2d:
      return "conv2d";
    case op_kind::relu:
      return "relu";
    case op_kind::leaky_relu:
      return "leaky_relu";
    case op_kind::prelu:
      return "prelu";
    case op_kind::add:
      return "add";
    case op_kind::scale:
      return "scale";
    case op_kind::concat:
      return "concat";
    case op_kind::pixel_shuffle:
      return "pixel_shuffle";
    case op_kind::upsample_nearest:
      return "upsample_nearest";
  }
  return "unknown";
}

bool same_spatial(const node_shape& a, const node_shape& b) {
  return a.mul_h == b.mul_h && a.off_h == b.off_h && a.mul_w == b.mul_w && a.off_w == b.off_w;
}

node_shape conv_shape(const graph_node& n, int index, const node_shape& in) {
  const conv2d_params& p = n.conv;
  if (p.in_channels <= 0 || p.out_channels <= 0 || p.in_channels > max_channels ||
      p.out_channels > max_channels) {
    fail(n, index, "conv2d channel counts out of range");
  }
  if (p.kernel_h <= 0 || p.kernel_w <= 0 || p.kernel_h > max_kernel || p.kernel_w > max_kernel) {
    fail(n, index, "conv2d kernel size out of range");
  }
  if (p.pad_top < 0 || p.pad_left < 0 || p.pad_bottom < 0 || p.pad_right < 0 ||
      p.pad_top >= p.kernel_h || p.pad_bottom >= p.kernel_h || p.pad_left >= p.kernel_w ||
      p.pad_right >= p.kernel_w) {
    fail(n, index, "conv2d padding must be between 0 and kernel size - 1");
  }
  if (p.in_channels != in.channels) {
    fail(n, index,
         "conv2d expects " + std::to_string(p.in_channels) + " input channels but its input has " +
             std::to_string(in.channels));
  }
  const auto expected = static_cast<std::size_t>(p.out_channels) *
                        static_cast<std::size_t>(p.in_channels) *
                        static_cast<std::size_t>(p.kernel_h) * static_cast<std::size_t>(p.kernel_w);
  if (p.weights.size() != expected) {
    fail(n, index,
         "conv2d weights have " + std::to_string(p.weights.size()) + " values, expected " +
             std::to_string(expected) + " (" + std::to_string(p.out_channels) + "x" +
             std::to_string(p.in_channels) + "x" + std::to_string(p.kernel_h) + "x" +
             std::to_string(p.kernel_w) + ")");
  }
  if (!p.bias.empty() && p.bias.size() != static_cast<std::size_t>(p.out_channels)) {
    fail(n, index,
         "conv2d bias has " + std::to_string(p.bias.size()) + " values, expected " +
             std::to_string(p.out_channels));
  }
  node_shape out = in;
  out.channels = p.out_channels;
  out.off_h += p.pad_top + p.pad_bottom - p.kernel_h + 1;
  out.off_w += p.pad_left + p.pad_right - p.kernel_w + 1;
  return out;
}

node_shape node_output_shape(const graph& g, const std::vector<node_shape>& shapes, int index) {
  const graph_node& n = g.nodes[static_cast<std::size_t>(index)];
  const auto arity = [&](std::size_t count) {
    if (n.inputs.size() != count) {
      fail(n, index,
           std::string(kind_name(n.kind)) + " takes " + std::to_string(count) + " input(s), got " +
               std::to_string(n.inputs.size()));
    }
  };
  for (const int in : n.inputs) {
    if (in < 0 || in >= index) {
      fail(n, index, "input index " + std::to_string(in) + " does not name an earlier node");
    }
  }
  if (n.kind == op_kind::input) {
    fail(n, index, "only node 0 may be the input");
  }
  if (n.inputs.empty()) {
    fail(n, index, std::string(kind_name(n.kind)) + " has no inputs");
  }
  const node_shape& first = shapes[static_cast<std::size_t>(n.inputs[0])];
  switch (n.kind) {
    case op_kind::conv2d:
      arity(1);
      return conv_shape(n, index, first);
    case op_kind::relu:
    case op_kind::leaky_relu:
    case op_kind::scale:
      arity(1);
      return first;
    case op_kind::prelu:
      arity(1);
      if (n.slopes.size() != 1 && n.slopes.size() != static_cast<std::size_t>(first.channels)) {
        fail(n, index,
             "prelu has " + std::to_string(n.slopes.size()) + " slopes for " +
                 std::to_string(first.channels) + " channels");
      }
      return first;
    case op_kind::add:
    case op_kind::concat: {
      node_shape out = first;
      long long channels = 0;
      for (const int in : n.inputs) {
        const node_shape& s = shapes[static_cast<std::size_t>(in)];
        if (!same_spatial(s, first)) {
          fail(n, index, std::string(kind_name(n.kind)) + " inputs differ in spatial size");
        }
        if (n.kind == op_kind::add && s.channels != first.channels) {
          fail(n, index, "add inputs differ in channel count");
        }
        channels += s.channels;
      }
      if (n.kind == op_kind::concat) {
        if (channels > max_channels) {
          fail(n, index, "concat has too many channels");
        }
        out.channels = static_cast<int>(channels);
      }
      return out;
    }
    case op_kind::pixel_shuffle:
    case op_kind::upsample_nearest: {
      arity(1);
      if (n.factor < 1 || n.factor > max_factor) {
        fail(n, index, "factor " + std::to_string(n.factor) + " out of range");
      }
      node_shape out = first;
      out.mul_h *= n.factor;
      out.off_h *= n.factor;
      out.mul_w *= n.factor;
      out.off_w *= n.factor;
      if (out.mul_h > max_multiplier || out.mul_w > max_multiplier) {
        fail(n, index, "total upscale factor too large");
      }
      if (n.kind == op_kind::pixel_shuffle) {
        const int s2 = n.factor * n.factor;
        if (first.channels % s2 != 0) {
          fail(n, index,
               "pixel_shuffle by " + std::to_string(n.factor) + " needs channels (" +
                   std::to_string(first.channels) + ") divisible by " + std::to_string(s2));
        }
        out.channels = first.channels / s2;
      }
      return out;
    }
    case op_kind::input:
      break;
  }
  fail(n, index, "unknown op kind");
}

}  // namespace

std::vector<node_shape> infer_shapes(const graph& g) {
  if (g.nodes.empty() || g.nodes[0].kind != op_kind::input) {
    throw std::invalid_argument("graph: node 0 must be the input");
  }
  if (!g.nodes[0].inputs.empty()) {
    throw std::invalid_argument("graph: the input node takes no inputs");
  }
  if (g.input_channels <= 0 || g.input_channels > max_channels) {
    throw std::invalid_argument("graph: input channel count out of range");
  }
  if (g.output < 0 || static_cast<std::size_t>(g.output) >= g.nodes.size()) {
    throw std::invalid_argument("graph: output index " + std::to_string(g.output) +
                                " does not name a node");
  }
  std::vector<node_shape> shapes(g.nodes.size());
  shapes[0].channels = g.input_channels;
  for (std::size_t i = 1; i < g.nodes.size(); ++i) {
    shapes[i] = node_output_shape(g, shapes, static_cast<int>(i));
  }
  const node_shape& out = shapes[static_cast<std::size_t>(g.output)];
  if (out.channels != g.output_channels) {
    throw std::invalid_argument("graph: output node has " + std::to_string(out.channels) +
                                " channels, expected " + std::to_string(g.output_channels));
  }
  if (out.mul_h != g.scale || out.mul_w != g.scale) {
    throw std::invalid_argument("graph: the network upscales by " + std::to_string(out.mul_h) +
                                "x" + std::to_string(out.mul_w) + ", declared scale is " +
                                std::to_string(g.scale));
  }
  if (!(g.input_multiplier > 0.0F) || !(g.output_divisor > 0.0F)) {
    throw std::invalid_argument("graph: input_multiplier and output_divisor must be positive");
  }
  return shapes;
}

void validate_graph(const graph& g) {
  (void)infer_shapes(g);
}

double graph::macs_per_input_pixel() const {
  const std::vector<node_shape> shapes = infer_shapes(*this);
  double macs = 0.0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const graph_node& n = nodes[i];
    if (n.kind != op_kind::conv2d) {
      continue;
    }
    const double per_output = static_cast<double>(n.conv.in_channels) * n.conv.kernel_h *
                              n.conv.kernel_w * n.conv.out_channels;
    macs += per_output * static_cast<double>(shapes[i].mul_h * shapes[i].mul_w);
  }
  return macs;
}

}  // namespace comfydist::nn
