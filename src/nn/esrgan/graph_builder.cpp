// Layer-by-layer graph construction with shape checks for ESRGAN-family checkpoints.
#include "nn/esrgan/graph_builder.hpp"

#include <stdexcept>
#include <utility>

namespace comfydist::nn::esrgan {

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return text + "]";
}

}  // namespace

graph_builder::graph_builder(state_dict& weights, std::string architecture, int input_channels)
    : weights_(weights) {
  graph_.architecture = std::move(architecture);
  graph_.input_channels = input_channels;
  graph_node input;
  input.kind = op_kind::input;
  input.name = "input";
  graph_.nodes.push_back(std::move(input));
  channels_.push_back(input_channels);
}

named_tensor& graph_builder::tensor(const std::string& key) {
  const auto found = weights_.find(key);
  if (found == weights_.end()) {
    throw std::invalid_argument("the " + graph_.architecture + " checkpoint lacks tensor '" + key +
                                "'");
  }
  return found->second;
}

int graph_builder::append(graph_node node, int channels) {
  graph_.nodes.push_back(std::move(node));
  channels_.push_back(channels);
  return static_cast<int>(graph_.nodes.size()) - 1;
}

int graph_builder::out_channels(int node) const {
  return channels_.at(static_cast<std::size_t>(node));
}

int graph_builder::conv(const std::string& prefix, int from, int in_channels) {
  const std::string weight_key = prefix + ".weight";
  named_tensor& weight = tensor(weight_key);
  const auto& s = weight.shape;
  if (s.size() != 4 || s[0] <= 0 || s[1] != in_channels || s[2] <= 0 || s[3] <= 0 ||
      s[2] % 2 == 0 || s[3] % 2 == 0 || s[0] > 65536 || s[2] > 31 || s[3] > 31) {
    throw std::invalid_argument("tensor '" + weight_key + "' has shape " + shape_text(s) +
                                "; expected [out, " + std::to_string(in_channels) +
                                ", k, k] with an odd kernel size");
  }
  if (weight.values.size() != static_cast<std::size_t>(s[0] * s[1] * s[2] * s[3])) {
    throw std::invalid_argument("tensor '" + weight_key + "' holds " +
                                std::to_string(weight.values.size()) + " values for shape " +
                                shape_text(s));
  }
  if (in_channels != out_channels(from)) {
    throw std::invalid_argument("tensor '" + weight_key + "' expects " +
                                std::to_string(in_channels) + " input channels but its input has " +
                                std::to_string(out_channels(from)));
  }
  graph_node node;
  node.kind = op_kind::conv2d;
  node.name = prefix;
  node.inputs = {from};
  conv2d_params& c = node.conv;
  c.out_channels = static_cast<int>(s[0]);
  c.in_channels = in_channels;
  c.kernel_h = static_cast<int>(s[2]);
  c.kernel_w = static_cast<int>(s[3]);
  c.pad_top = c.pad_bottom = c.kernel_h / 2;
  c.pad_left = c.pad_right = c.kernel_w / 2;
  c.weights = std::move(weight.values);
  const std::string bias_key = prefix + ".bias";
  if (const auto bias = weights_.find(bias_key); bias != weights_.end()) {
    if (bias->second.shape != std::vector<std::int64_t>{s[0]} ||
        bias->second.values.size() != static_cast<std::size_t>(s[0])) {
      throw std::invalid_argument("tensor '" + bias_key + "' has shape " +
                                  shape_text(bias->second.shape) + "; expected [" +
                                  std::to_string(s[0]) + "]");
    }
    c.bias = std::move(bias->second.values);
  }
  const int out = c.out_channels;
  return append(std::move(node), out);
}

int graph_builder::leaky_relu(int from, float slope) {
  graph_node node;
  node.kind = op_kind::leaky_relu;
  node.name = graph_.nodes[static_cast<std::size_t>(from)].name + ".lrelu";
  node.inputs = {from};
  node.alpha = slope;
  return append(std::move(node), out_channels(from));
}

int graph_builder::prelu(const std::string& weight_key, int from, int channels) {
  named_tensor& weight = tensor(weight_key);
  if (weight.shape != std::vector<std::int64_t>{channels} || channels != out_channels(from) ||
      weight.values.size() != static_cast<std::size_t>(channels)) {
    throw std::invalid_argument("tensor '" + weight_key + "' has shape " +
                                shape_text(weight.shape) + "; expected [" +
                                std::to_string(out_channels(from)) + "] PReLU slopes");
  }
  graph_node node;
  node.kind = op_kind::prelu;
  node.name = weight_key.substr(0, weight_key.size() - 7);  // without ".weight"
  node.inputs = {from};
  node.slopes = std::move(weight.values);
  return append(std::move(node), channels);
}

int graph_builder::add(std::vector<int> from) {
  graph_node node;
  node.kind = op_kind::add;
  node.name = graph_.nodes[static_cast<std::size_t>(from.back())].name + ".add";
  const int channels = out_channels(from.front());
  for (int f : from) {
    if (out_channels(f) != channels) {
      throw std::invalid_argument("cannot add " + graph_.nodes[static_cast<std::size_t>(f)].name +
                                  " (" + std::to_string(out_channels(f)) + " channels) to " +
                                  std::to_string(channels) + " channels");
    }
  }
  node.inputs = std::move(from);
  return append(std::move(node), channels);
}

int graph_builder::scale(int from, float factor) {
  graph_node node;
  node.kind = op_kind::scale;
  node.name = graph_.nodes[static_cast<std::size_t>(from)].name + ".scale";
  node.inputs = {from};
  node.alpha = factor;
  return append(std::move(node), out_channels(from));
}

int graph_builder::concat(std::vector<int> from) {
  graph_node node;
  node.kind = op_kind::concat;
  node.name = graph_.nodes[static_cast<std::size_t>(from.back())].name + ".concat";
  int channels = 0;
  for (int f : from) {
    channels += out_channels(f);
  }
  node.inputs = std::move(from);
  return append(std::move(node), channels);
}

int graph_builder::upsample_nearest(int from, int factor) {
  graph_node node;
  node.kind = op_kind::upsample_nearest;
  node.name = graph_.nodes[static_cast<std::size_t>(from)].name + ".upsample";
  node.inputs = {from};
  node.factor = factor;
  return append(std::move(node), out_channels(from));
}

int graph_builder::pixel_shuffle(int from, int factor) {
  const int channels = out_channels(from);
  if (channels % (factor * factor) != 0) {
    throw std::invalid_argument("pixel shuffle by " + std::to_string(factor) +
                                " needs a multiple of " + std::to_string(factor * factor) +
                                " channels, not " + std::to_string(channels));
  }
  graph_node node;
  node.kind = op_kind::pixel_shuffle;
  node.name = graph_.nodes[static_cast<std::size_t>(from)].name + ".pixel_shuffle";
  node.inputs = {from};
  node.factor = factor;
  node.order = shuffle_order::crd;
  return append(std::move(node), channels / (factor * factor));
}

std::shared_ptr<const graph> graph_builder::finish(int output, int output_channels, int scale) {
  if (out_channels(output) != output_channels) {
    throw std::invalid_argument("the " + graph_.architecture + " network ends with " +
                                std::to_string(out_channels(output)) + " channels, not " +
                                std::to_string(output_channels));
  }
  graph_.output = output;
  graph_.output_channels = output_channels;
  graph_.scale = scale;
  graph_.input_multiplier = 1.0F;
  graph_.output_divisor = 1.0F;
  return std::make_shared<const graph>(std::move(graph_));
}

}  // namespace comfydist::nn::esrgan
