// Graph rewrite: a scale that only follows a convolution is folded into that convolution's
// weights and bias (the TF.js RRDN "MultiplyBeta" after each dense block's last conv), leaving a
// scale by 1 that the fusion plan drops. oneDNN's fast kernels then see only a sum post-op.
#pragma once

#include "nn/graph.hpp"

namespace comfydist::nn::onednn {

graph fold_scale_into_conv(graph g);

}  // namespace comfydist::nn::onednn
