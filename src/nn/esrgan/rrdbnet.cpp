// RRDBNet graph construction. The three layouts name the same layers differently; each is mapped
// onto one list of layer prefixes, then one builder lays out the network:
//   fea = conv_first(x); trunk = conv_body(RRDB^n(fea)) + fea;
//   per ×2: lrelu(conv_up(nearest×2(·))); out = conv_last(lrelu(conv_hr(·)))
// with RDB(x) = conv5(cat(x, x1..x4)) * 0.2 + x (x_k = lrelu(conv_k(cat(x, x1..x_{k-1})))) and
// RRDB(x) = RDB3(RDB2(RDB1(x))) * 0.2 + x; every LeakyReLU has slope 0.2.
#include "nn/esrgan/rrdbnet.hpp"

#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/esrgan/graph_builder.hpp"

namespace comfydist::nn::esrgan {

namespace {

constexpr float slope = 0.2F;
constexpr float residual_scale = 0.2F;
constexpr int max_blocks = 1000;
constexpr int max_upsamples = 4;

struct rrdb_layout {
  std::string first;
  std::vector<std::string> block_prefixes;  // "body.N" etc.; RDB k conv m = prefix + rdb(k, m)
  std::string rdb_name;                     // "rdb" or "RDB"
  std::string conv_suffix;                  // "" or ".0" (old layout wraps convs in Sequential)
  std::string body;
  std::vector<std::string> upconvs;
  std::string hr;
  std::string last;
};

bool has(const state_dict& w, const std::string& key) {
  return w.contains(key);
}

// Highest N for which a key matches `pattern` (group 1 = N), or -1.
int max_index(const state_dict& w, const std::regex& pattern) {
  int best = -1;
  std::smatch match;
  for (const auto& [key, tensor] : w) {
    if (std::regex_match(key, match, pattern)) {
      const std::string digits = match[1].str();
      if (digits.size() > 6) {
        throw std::invalid_argument("implausible layer index in tensor '" + key + "'");
      }
      best = std::max(best, std::stoi(digits));
    }
  }
  return best;
}

int count_blocks(const state_dict& w, const std::string& block_regex) {
  const int highest = max_index(w, std::regex(block_regex));
  if (highest < 0 || highest >= max_blocks) {
    throw std::invalid_argument("RRDBNet checkpoint with " + std::to_string(highest + 1) +
                                " blocks");
  }
  return highest + 1;
}

void add_blocks(rrdb_layout& layout, const std::string& prefix, int count) {
  for (int b = 0; b < count; ++b) {
    layout.block_prefixes.push_back(prefix + std::to_string(b));
  }
}

rrdb_layout old_layout(const state_dict& w) {
  rrdb_layout layout;
  layout.first = "model.0";
  const int blocks = count_blocks(w, R"(model\.1\.sub\.(\d+)\.RDB\d\.conv\d\.0\.(weight|bias))");
  add_blocks(layout, "model.1.sub.", blocks);
  layout.rdb_name = "RDB";
  layout.conv_suffix = ".0";
  layout.body = "model.1.sub." + std::to_string(blocks);
  // model = [conv, shortcut, (upsample, conv, lrelu) × n, conv, lrelu, conv]: 5 + 3n entries.
  const int length = max_index(w, std::regex(R"(model\.(\d+)\.(weight|bias))")) + 1;
  if (length < 5 || (length - 5) % 3 != 0 || (length - 5) / 3 > max_upsamples) {
    throw std::invalid_argument("old-layout RRDBNet whose last layer is model." +
                                std::to_string(length - 1) +
                                "; expected model.4, model.7, model.10 ... (scale 1, 2, 4 ...)");
  }
  const int upsamples = (length - 5) / 3;
  for (int i = 1; i <= upsamples; ++i) {
    layout.upconvs.push_back("model." + std::to_string(3 * i));
  }
  layout.hr = "model." + std::to_string(3 * upsamples + 2);
  layout.last = "model." + std::to_string(3 * upsamples + 4);
  return layout;
}

rrdb_layout new_layout(const state_dict& w) {
  // Real-ESRGAN/BasicSR names, or BSRGAN/RealSR's older spelling of the same network.
  const bool bsrgan = has(w, "RRDB_trunk.0.RDB1.conv1.weight");
  rrdb_layout layout;
  layout.first = "conv_first";
  const std::string trunk = bsrgan ? "RRDB_trunk" : "body";
  const int blocks = count_blocks(w, trunk + R"(\.(\d+)\.(rdb|RDB)\d\.conv\d\.(weight|bias))");
  add_blocks(layout, trunk + ".", blocks);
  layout.rdb_name = bsrgan ? "RDB" : "rdb";
  layout.body = bsrgan ? "trunk_conv" : "conv_body";
  for (int i = 1; i <= max_upsamples + 1; ++i) {
    for (const char* name : {"conv_up", "upconv"}) {
      if (has(w, name + std::to_string(i) + ".weight")) {
        layout.upconvs.push_back(name + std::to_string(i));
      }
    }
  }
  if (layout.upconvs.size() > static_cast<std::size_t>(max_upsamples)) {
    throw std::invalid_argument("RRDBNet with more than " + std::to_string(max_upsamples) +
                                " upsampling layers");
  }
  layout.hr = has(w, "HRconv.weight") ? "HRconv" : "conv_hr";
  layout.last = "conv_last";
  return layout;
}

int rdb(graph_builder& g, const rrdb_layout& layout, const std::string& prefix, int x, int nf) {
  std::vector<int> features = {x};
  int channels = nf;
  for (int m = 1; m <= 5; ++m) {
    const int in = features.size() == 1 ? x : g.concat(features);
    const int conv =
        g.conv(prefix + ".conv" + std::to_string(m) + layout.conv_suffix, in, channels);
    if (m == 5) {
      return g.add({g.scale(conv, residual_scale), x});
    }
    features.push_back(g.leaky_relu(conv, slope));
    channels += g.out_channels(conv);
  }
  return x;  // not reached
}

}  // namespace

bool is_rrdbnet(const state_dict& w) {
  return (has(w, "model.0.weight") && (has(w, "model.1.sub.0.RDB1.conv1.0.weight") ||
                                       has(w, "model.1.sub.0.RDB1.conv1x1.weight"))) ||
         (has(w, "conv_first.weight") && has(w, "body.0.rdb1.conv1.weight") &&
          has(w, "conv_body.weight") && has(w, "conv_last.weight")) ||
         (has(w, "conv_first.weight") && has(w, "RRDB_trunk.0.RDB1.conv1.weight") &&
          has(w, "trunk_conv.weight") && has(w, "conv_last.weight"));
}

std::shared_ptr<const graph> build_rrdbnet(state_dict& w) {
  if (has(w, "model.1.sub.0.RDB1.conv1x1.weight")) {
    throw std::invalid_argument(
        "ESRGAN+ checkpoints (RRDB blocks with conv1x1 layers) are not supported");
  }
  const rrdb_layout layout = has(w, "model.0.weight") ? old_layout(w) : new_layout(w);
  const auto& first_shape = w.at(layout.first + ".weight").shape;
  const auto last = w.find(layout.last + ".weight");
  if (first_shape.size() != 4 || last == w.end() || last->second.shape.size() != 4) {
    throw std::invalid_argument("RRDBNet checkpoint with misshapen '" + layout.first +
                                ".weight' or '" + layout.last + ".weight'");
  }
  const int in_nc = static_cast<int>(first_shape[1]);
  const int nf = static_cast<int>(first_shape[0]);
  const int out_nc = static_cast<int>(last->second.shape[0]);
  if (in_nc == out_nc * 4 || in_nc == out_nc * 16) {
    // Real-ESRGAN x2/x1: the input is pixel-unshuffled first, an op the graph does not have yet.
    throw std::invalid_argument(
        "Real-ESRGAN models with a pixel-unshuffled input (conv_first takes " +
        std::to_string(in_nc) + " channels for " + std::to_string(out_nc) +
        "-channel images: the x2 and x1 variants) are not supported yet");
  }

  graph_builder g(w, "RRDBNet", in_nc);
  const int fea = g.conv(layout.first, g.input(), in_nc);
  int x = fea;
  for (const auto& block : layout.block_prefixes) {
    const int block_in = x;
    for (int k = 1; k <= 3; ++k) {
      x = rdb(g, layout, block + "." + layout.rdb_name + std::to_string(k), x, nf);
    }
    x = g.add({g.scale(x, residual_scale), block_in});
  }
  x = g.add({fea, g.conv(layout.body, x, nf)});
  for (const auto& up : layout.upconvs) {
    x = g.leaky_relu(g.conv(up, g.upsample_nearest(x, 2), nf), slope);
  }
  x = g.leaky_relu(g.conv(layout.hr, x, nf), slope);
  x = g.conv(layout.last, x, nf);
  return g.finish(x, out_nc, 1 << layout.upconvs.size());
}

}  // namespace comfydist::nn::esrgan
