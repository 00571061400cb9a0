// Recognising an upscale network in a checkpoint's state dict and building its graph, as ComfyUI's
// loader (spandrel) does for the ESRGAN family.
#pragma once

#include <memory>

#include "nn/graph.hpp"
#include "nn/state_dict.hpp"

namespace comfydist::nn {

// Consumes the state dict's values. Throws std::invalid_argument for an unknown layout
// ("unsupported upscale model: found N tensors such as 'a', 'b', 'c'; known: ...") and for tensors
// whose shapes do not fit the detected network.
std::shared_ptr<const graph> build_upscale_graph(state_dict weights);

}  // namespace comfydist::nn
