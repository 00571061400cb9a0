// Ops the backend runs with its own loops on plain NCHW buffers.
#pragma once

#include "nn/graph.hpp"

namespace comfydist::nn::onednn {

// Depth-to-space: src is N×(C·s²)×H×W, dst N×C×(H·s)×(W·s), both NCHW.
void pixel_shuffle_nchw(const float* src, float* dst, int n, int out_channels, int h, int w, int s,
                        shuffle_order order);

}  // namespace comfydist::nn::onednn
