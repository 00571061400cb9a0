// One graph node (or two: conv + fused activation) per Keras layer; weights converted from TF's
// HWIO kernels to OIHW.
#include "nn/tfjs/tfjs_layers.hpp"

#include <stdexcept>

namespace comfydist::nn::tfjs {
namespace {

using nlohmann::json;

constexpr int max_kernel = 64;
constexpr int max_filters = 1 << 16;
constexpr int max_factor = 16;
// The @upscalerjs packages' MultiplyBeta layer multiplies by a constant BETA = 0.2 in its JS; the
// config's "beta" field is not read by the package, so it is not read here either.
constexpr float multiply_beta = 0.2F;

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument("model.json: " + what);
}

[[noreturn]] void fail_layer(const std::string& name, const std::string& what) {
  fail("layer '" + name + "' " + what);
}

int int_field(const json& config, const char* key, int fallback) {
  if (!config.contains(key) || config[key].is_null()) {
    return fallback;
  }
  if (!config[key].is_number_integer()) {
    fail(std::string("field '") + key + "' is not an integer");
  }
  return config[key].get<int>();
}

// A pair field as Keras writes kernel_size/strides/size: [a, b] or a single integer.
std::pair<int, int> pair_field(const json& config, const char* key, int fallback) {
  if (!config.contains(key) || config[key].is_null()) {
    return {fallback, fallback};
  }
  const json& v = config[key];
  if (v.is_number_integer()) {
    return {v.get<int>(), v.get<int>()};
  }
  if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer()) {
    fail(std::string("field '") + key + "' is not a pair of integers");
  }
  return {v[0].get<int>(), v[1].get<int>()};
}

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) {
    t += (i != 0 ? ", " : "") + std::to_string(s[i]);
  }
  return t + "]";
}

// "PixelShuffle4x" → 4; 0 for any other name.
int pixel_shuffle_factor(const std::string& type) {
  const std::string prefix = "PixelShuffle";
  if (type.size() < prefix.size() + 2 || type.compare(0, prefix.size(), prefix) != 0 ||
      type.back() != 'x') {
    return 0;
  }
  const std::string digits = type.substr(prefix.size(), type.size() - prefix.size() - 1);
  if (digits.empty() || digits.size() > 2 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return std::stoi(digits);
}

}  // namespace

layer_translator::layer layer_translator::parse_layer(const json& j) {
  if (!j.is_object()) {
    fail("a layer is not an object");
  }
  layer l;
  l.type = j.value("class_name", std::string());
  l.config = j.contains("config") && j["config"].is_object() ? j["config"] : json::object();
  l.name = j.contains("name") && j["name"].is_string() ? j["name"].get<std::string>()
                                                       : l.config.value("name", std::string());
  if (l.name.empty()) {
    fail("a layer of type '" + l.type + "' has no name");
  }
  const json& nodes = j.contains("inbound_nodes") ? j["inbound_nodes"] : json::array();
  if (!nodes.is_array() || nodes.size() > 1) {
    fail_layer(l.name, "is applied more than once (shared layers are not supported)");
  }
  if (nodes.size() == 1) {
    if (!nodes[0].is_array()) {
      fail_layer(l.name, "has unreadable inbound nodes");
    }
    for (const json& ref : nodes[0]) {
      if (!ref.is_array() || ref.size() < 3 || !ref[0].is_string() || ref[1] != 0 || ref[2] != 0) {
        fail_layer(l.name, "has an inbound reference this loader does not understand");
      }
      l.inbound.push_back(ref[0].get<std::string>());
    }
  }
  return l;
}

void layer_translator::translate(const json& layers, const std::string& input_name,
                                 const std::string& output_name) {
  std::vector<layer> pending;
  for (const json& j : layers) {
    pending.push_back(parse_layer(j));
  }
  // Keras lists layers in dependency order, but nothing requires it: resolve in passes.
  while (!pending.empty()) {
    std::vector<layer> blocked;
    for (layer& l : pending) {
      bool ready = true;
      for (const std::string& in : l.inbound) {
        ready = ready && outputs_.count(in) != 0;
      }
      if (!ready) {
        blocked.push_back(std::move(l));
        continue;
      }
      if (outputs_.count(l.name) != 0) {
        fail("two layers are named '" + l.name + "'");
      }
      if (l.type == "InputLayer" && !input_name.empty() && l.name != input_name) {
        fail("layer '" + l.name + "' is a second input");
      }
      add_layer(l);
      last_ = l.name;
    }
    if (blocked.size() == pending.size()) {
      fail_layer(blocked[0].name, "reads a layer that is not defined (or the graph has a cycle)");
    }
    pending = std::move(blocked);
  }
  if (!output_name.empty()) {
    last_ = output_name;
  }
}

int layer_translator::push(graph_node n, int channels, int scale) {
  g_.nodes.push_back(std::move(n));
  channels_.push_back(channels);
  scale_.push_back(scale);
  return static_cast<int>(g_.nodes.size()) - 1;
}

int layer_translator::input_of(const layer& l, std::size_t k) const {
  return outputs_.at(l.inbound.at(k));
}

int layer_translator::conv(const layer& l, int in) {
  const json& c = l.config;
  const int filters = int_field(c, "filters", 0);
  const auto [kh, kw] = pair_field(c, "kernel_size", 0);
  const std::string padding = c.value("padding", std::string("valid"));
  const std::string activation = c.value("activation", std::string("linear"));
  if (filters <= 0 || filters > max_filters || kh <= 0 || kw <= 0 || kh > max_kernel ||
      kw > max_kernel) {
    fail_layer(l.name, "has an invalid filter count or kernel size");
  }
  if (pair_field(c, "strides", 1) != std::pair{1, 1} ||
      pair_field(c, "dilation_rate", 1) != std::pair{1, 1} || int_field(c, "groups", 1) != 1) {
    fail_layer(l.name, "uses strides, dilation or groups (not supported)");
  }
  if (c.value("data_format", std::string("channels_last")) != "channels_last") {
    fail_layer(l.name, "is not channels_last");
  }
  if (padding != "same" && padding != "valid") {
    fail_layer(l.name, "has unsupported padding '" + padding + "'");
  }
  if (activation != "linear" && activation != "relu") {
    fail_layer(l.name, "has unsupported activation '" + activation + "'");
  }
  const int cin = channels_[static_cast<std::size_t>(in)];
  graph_node n;
  n.kind = op_kind::conv2d;
  n.name = l.name;
  n.inputs = {in};
  conv2d_params& p = n.conv;
  p.in_channels = cin;
  p.out_channels = filters;
  p.kernel_h = kh;
  p.kernel_w = kw;
  if (padding == "same") {
    // TF's "same" for stride 1: total k - 1, the odd pixel goes to the bottom/right.
    p.pad_top = (kh - 1) / 2;
    p.pad_bottom = kh - 1 - p.pad_top;
    p.pad_left = (kw - 1) / 2;
    p.pad_right = kw - 1 - p.pad_left;
  }
  const auto kernel = weights_.find(l.name + "/kernel");
  if (kernel == weights_.end()) {
    fail_layer(l.name, "has no weight '" + l.name + "/kernel' in the manifest");
  }
  const std::vector<std::int64_t> want{kh, kw, cin, filters};
  if (kernel->second.shape != want) {
    fail_layer(l.name, "kernel has shape " + shape_text(kernel->second.shape) + ", expected " +
                           shape_text(want));
  }
  const std::vector<float>& hwio = kernel->second.values;
  p.weights.resize(hwio.size());
  for (int y = 0; y < kh; ++y) {
    for (int x = 0; x < kw; ++x) {
      for (int i = 0; i < cin; ++i) {
        for (int o = 0; o < filters; ++o) {
          const auto src = ((static_cast<std::size_t>(y) * kw + x) * cin + i) * filters + o;
          const auto dst = ((static_cast<std::size_t>(o) * cin + i) * kh + y) * kw + x;
          p.weights[dst] = hwio[src];
        }
      }
    }
  }
  if (c.value("use_bias", true)) {
    const auto bias = weights_.find(l.name + "/bias");
    if (bias == weights_.end()) {
      fail_layer(l.name, "has no weight '" + l.name + "/bias' in the manifest");
    }
    if (bias->second.shape != std::vector<std::int64_t>{filters}) {
      fail_layer(l.name, "bias has shape " + shape_text(bias->second.shape) + ", expected [" +
                             std::to_string(filters) + "]");
    }
    p.bias = bias->second.values;
  }
  int out = push(std::move(n), filters, scale_[static_cast<std::size_t>(in)]);
  if (activation == "relu") {
    graph_node r;
    r.kind = op_kind::relu;
    r.name = l.name + "/relu";
    r.inputs = {out};
    out = push(std::move(r), filters, scale_[static_cast<std::size_t>(out)]);
  }
  return out;
}

void layer_translator::add_layer(const layer& l) {
  const auto arity = [&](std::size_t lo, std::size_t hi) {
    if (l.inbound.size() < lo || l.inbound.size() > hi) {
      fail_layer(l.name, "(" + l.type + ") has " + std::to_string(l.inbound.size()) + " inputs");
    }
  };
  if (l.type == "InputLayer") {
    arity(0, 0);
    if (!g_.nodes.empty()) {
      fail_layer(l.name, "is a second input");
    }
    int channels = 3;
    const json& shape = l.config.value("batch_input_shape", json());
    if (shape.is_array() && shape.size() == 4 && shape[3].is_number_integer()) {
      channels = shape[3].get<int>();
    }
    if (channels <= 0 || channels > max_filters) {
      fail_layer(l.name, "has an invalid channel count");
    }
    graph_node n;
    n.kind = op_kind::input;
    n.name = l.name;
    g_.input_channels = channels;
    outputs_[l.name] = push(std::move(n), channels, 1);
    return;
  }
  if (g_.nodes.empty()) {
    fail_layer(l.name, "comes before the InputLayer");
  }
  const bool multi = l.type == "Concatenate" || l.type == "Add";
  arity(multi ? 2 : 1, multi ? 1024 : 1);
  const int in = input_of(l, 0);
  const int in_channels = channels_[static_cast<std::size_t>(in)];
  const int in_scale = scale_[static_cast<std::size_t>(in)];
  graph_node n;
  n.name = l.name;
  n.inputs = {in};
  int out_channels = in_channels;
  int out_scale = in_scale;
  const int shuffle = pixel_shuffle_factor(l.type);
  if (l.type == "Conv2D") {
    outputs_[l.name] = conv(l, in);
    return;
  }
  if (l.type == "Activation") {
    const std::string activation = l.config.value("activation", std::string());
    if (activation == "linear") {
      outputs_[l.name] = in;
      return;
    }
    if (activation != "relu") {
      fail_layer(l.name, "has unsupported activation '" + activation + "'");
    }
    n.kind = op_kind::relu;
  } else if (multi) {
    n.kind = l.type == "Add" ? op_kind::add : op_kind::concat;
    if (n.kind == op_kind::concat) {
      const int axis = int_field(l.config, "axis", -1);
      if (axis != -1 && axis != 3) {
        fail_layer(l.name, "concatenates along axis " + std::to_string(axis) +
                               " (only channels are supported)");
      }
      out_channels = 0;
    }
    n.inputs.clear();
    for (std::size_t k = 0; k < l.inbound.size(); ++k) {
      n.inputs.push_back(input_of(l, k));
      if (n.kind == op_kind::concat) {
        out_channels += channels_[static_cast<std::size_t>(n.inputs.back())];
      }
    }
  } else if (l.type == "UpSampling2D") {
    const auto [sh, sw] = pair_field(l.config, "size", 2);
    if (sh != sw || sh < 1 || sh > max_factor) {
      fail_layer(l.name, "upsamples by " + std::to_string(sh) + "x" + std::to_string(sw) +
                             " (only equal integer factors are supported)");
    }
    if (l.config.value("interpolation", std::string("nearest")) != "nearest") {
      fail_layer(l.name, "uses interpolation other than nearest");
    }
    n.kind = op_kind::upsample_nearest;
    n.factor = sh;
    out_scale *= sh;
  } else if (l.type == "MultiplyBeta") {
    n.kind = op_kind::scale;
    n.alpha = multiply_beta;
    custom_layers_ = true;
  } else if (shuffle > 0) {
    if (shuffle > max_factor || in_channels % (shuffle * shuffle) != 0) {
      fail_layer(l.name, "cannot shuffle " + std::to_string(in_channels) + " channels by " +
                             std::to_string(shuffle));
    }
    // tf.depthToSpace in NHWC: DCR order. (The package's computeOutputShape is wrong; the shape
    // used here is [N, s·H, s·W, C/s²].)
    n.kind = op_kind::pixel_shuffle;
    n.factor = shuffle;
    n.order = shuffle_order::dcr;
    out_channels = in_channels / (shuffle * shuffle);
    out_scale *= shuffle;
    custom_layers_ = true;
  } else {
    fail("layer '" + l.name + "' has unsupported type '" + l.type + "'");
  }
  outputs_[l.name] = push(std::move(n), out_channels, out_scale);
}

graph layer_translator::finish() {
  const auto out = outputs_.find(last_);
  if (g_.nodes.empty() || out == outputs_.end()) {
    fail("the output layer '" + last_ + "' is not defined");
  }
  g_.output = out->second;
  g_.output_channels = channels_[static_cast<std::size_t>(g_.output)];
  g_.scale = scale_[static_cast<std::size_t>(g_.output)];
  // Value ranges as the packages' JS defines them (getESRGANModelDefinition): the RDN models
  // (default-model, esrgan-slim, esrgan-medium) take and give 0–255; the RRDN models
  // (esrgan-thick) take 0–1 and give 0–1. Only RRDN registers the custom MultiplyBeta and
  // PixelShuffle layers, so their presence identifies it.
  if (custom_layers_) {
    g_.architecture = "RRDN (TF.js)";
    g_.input_multiplier = 1.0F;
    g_.output_divisor = 1.0F;
  } else {
    g_.architecture = "RDN (TF.js)";
    g_.input_multiplier = 255.0F;
    g_.output_divisor = 255.0F;
  }
  try {
    validate_graph(g_);
  } catch (const std::invalid_argument& e) {
    fail(std::string("the layer graph is inconsistent: ") + e.what());
  }
  return std::move(g_);
}

}  // namespace comfydist::nn::tfjs
