// Graph rewrite: a nearest upsample by s feeding only a "same" convolution becomes one convolution
// at the low resolution (s² times the output channels, phase-specific kernels) followed by a pixel
// shuffle. Same arithmetic, but the large upsampled tensor is never materialised (the RDN ×8
// memory trap: 192 channels at output resolution).
#pragma once

#include "nn/graph.hpp"

namespace comfydist::nn::onednn {

// Returns a copy of g with every such pair rewritten; node indices are kept.
graph fuse_upsample_into_conv(const graph& g);

}  // namespace comfydist::nn::onednn
