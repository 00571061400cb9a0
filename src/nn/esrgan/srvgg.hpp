// SRVGGNetCompact (Real-ESRGAN "compact", realesr-animevideov3 / general-x4v3): recognising it in a
// state dict and building its graph.
#pragma once

#include <memory>

#include "nn/graph.hpp"
#include "nn/state_dict.hpp"

namespace comfydist::nn::esrgan {

// body.0.weight and body.1.weight, as spandrel's Compact detection.
bool is_srvgg_compact(const state_dict& weights);

// conv, PReLU, (conv, PReLU) × num_conv, conv to out·s² channels, pixel shuffle by s, plus the
// nearest-upsampled input. Consumes the tensors' values.
std::shared_ptr<const graph> build_srvgg_compact(state_dict& weights);

}  // namespace comfydist::nn::esrgan
