// Working-memory estimate of a run before any primitive for that size exists, so a caller can
// choose a tile size: replays the plan's allocations with channel counts padded to the blocked
// layout and a reorder temporary per step input.
#pragma once

#include <cstddef>

#include "nn/graph.hpp"
#include "nn/onednn/exec_plan.hpp"

namespace comfydist::nn::onednn {

std::size_t estimate_peak_bytes(const graph& g, const exec_plan& plan, int height, int width,
                                std::size_t scratch_bytes);

}  // namespace comfydist::nn::onednn
