// RRDBNet (ESRGAN, BSRGAN, Real-ESRGAN): recognising its three key layouts in a state dict and
// building its graph.
#pragma once

#include <memory>

#include "nn/graph.hpp"
#include "nn/state_dict.hpp"

namespace comfydist::nn::esrgan {

// True when the keys look like one of the RRDBNet layouts (as spandrel's ESRGAN detection).
bool is_rrdbnet(const state_dict& weights);

// Builds the graph, deriving scale, channels, features and block count from names and shapes.
// Consumes the tensors' values. Throws std::invalid_argument for missing or misshapen tensors and
// for variants not supported (ESRGAN+, pixel-unshuffle inputs of Real-ESRGAN x2/x1).
std::shared_ptr<const graph> build_rrdbnet(state_dict& weights);

}  // namespace comfydist::nn::esrgan
