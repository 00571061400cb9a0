// Architecture dispatch for .safetensors/.pth upscale checkpoints, in spandrel's detection order.
#include "nn/esrgan/upscale_architecture.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "nn/esrgan/rrdbnet.hpp"
#include "nn/esrgan/srvgg.hpp"

namespace comfydist::nn {

std::shared_ptr<const graph> build_upscale_graph(state_dict weights) {
  // spandrel strips a prefix every key shares: "module." (DataParallel) or "netG." (GAN training).
  for (const std::string prefix : {"module.", "netG."}) {
    if (!weights.empty() && std::all_of(weights.begin(), weights.end(), [&](const auto& entry) {
          return entry.first.starts_with(prefix);
        })) {
      state_dict stripped;
      for (auto& [key, tensor] : weights) {
        stripped.emplace(key.substr(prefix.size()), std::move(tensor));
      }
      weights = std::move(stripped);
    }
  }
  if (esrgan::is_rrdbnet(weights)) {
    return esrgan::build_rrdbnet(weights);
  }
  if (esrgan::is_srvgg_compact(weights)) {
    return esrgan::build_srvgg_compact(weights);
  }
  std::string message =
      "unsupported upscale model: found " + std::to_string(weights.size()) + " tensors";
  int shown = 0;
  for (const auto& [key, tensor] : weights) {
    message += (shown == 0 ? " such as '" : ", '") + key + "'";
    if (++shown == 3) {
      break;
    }
  }
  throw std::invalid_argument(message + "; known: RRDBNet (ESRGAN/Real-ESRGAN), SRVGGNetCompact");
}

}  // namespace comfydist::nn
