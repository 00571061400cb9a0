// SRVGGNetCompact graph construction; num_conv, features, scale and channels come from the body
// layer count and the first and last convolutions' shapes.
#include "nn/esrgan/srvgg.hpp"

#include <cmath>
#include <regex>
#include <stdexcept>
#include <string>

#include "nn/esrgan/graph_builder.hpp"

namespace comfydist::nn::esrgan {

namespace {

constexpr int max_body = 1000;

}  // namespace

bool is_srvgg_compact(const state_dict& w) {
  return w.contains("body.0.weight") && w.contains("body.1.weight");
}

std::shared_ptr<const graph> build_srvgg_compact(state_dict& w) {
  int highest = -1;
  const std::regex pattern(R"(body\.(\d+)\.(weight|bias))");
  std::smatch match;
  for (const auto& [key, tensor] : w) {
    if (std::regex_match(key, match, pattern) && match[1].str().size() <= 6) {
      highest = std::max(highest, std::stoi(match[1].str()));
    }
  }
  if (highest < 2 || highest % 2 != 0 || highest > max_body) {
    throw std::invalid_argument("SRVGGNetCompact checkpoint whose last body layer is body." +
                                std::to_string(highest) + "; expected an even index of at least 2");
  }
  const auto& first_shape = w.at("body.0.weight").shape;
  const auto last = w.find("body." + std::to_string(highest) + ".weight");
  if (first_shape.size() != 4 || last == w.end() || last->second.shape.size() != 4) {
    throw std::invalid_argument(
        "SRVGGNetCompact checkpoint with misshapen 'body.0.weight' or 'body." +
        std::to_string(highest) + ".weight'");
  }
  const int in_nc = static_cast<int>(first_shape[1]);
  const int nf = static_cast<int>(first_shape[0]);
  // The last conv produces out·scale² channels; the residual add needs out == in.
  const std::int64_t shuffled = last->second.shape[0];
  const auto scale =
      static_cast<int>(std::lround(std::sqrt(static_cast<double>(shuffled) / in_nc)));
  if (in_nc <= 0 || scale < 1 || static_cast<std::int64_t>(in_nc) * scale * scale != shuffled) {
    throw std::invalid_argument("tensor 'body." + std::to_string(highest) + ".weight' has " +
                                std::to_string(shuffled) + " output channels, not " +
                                std::to_string(in_nc) + " × scale² for " + std::to_string(in_nc) +
                                "-channel images");
  }

  graph_builder g(w, "SRVGGNetCompact", in_nc);
  int x = g.input();
  int channels = in_nc;
  for (int i = 0; i < highest; i += 2) {
    x = g.conv("body." + std::to_string(i), x, channels);
    channels = nf;
    x = g.prelu("body." + std::to_string(i + 1) + ".weight", x, nf);
  }
  x = g.conv("body." + std::to_string(highest), x, nf);
  x = g.pixel_shuffle(x, scale);
  const int base = scale == 1 ? g.input() : g.upsample_nearest(g.input(), scale);
  x = g.add({x, base});
  return g.finish(x, in_nc, scale);
}

}  // namespace comfydist::nn::esrgan
