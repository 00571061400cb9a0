// Loading an upscale model file into a graph, by format: TF.js layers models (model.json + weight
// shards), .safetensors and .pth (PyTorch zip with a pickled state dict, parsed without executing
// anything). The architecture is detected from tensor names and shapes, as ComfyUI's loader
// (spandrel) does.
#pragma once

#include <filesystem>
#include <memory>

#include "nn/graph.hpp"

namespace comfydist::nn {

// Throws std::invalid_argument with a message a user understands for corrupt files, refused
// pickles, unknown layouts (naming what was found), and weights whose shapes do not fit.
std::shared_ptr<const graph> load_model_file(const std::filesystem::path& path);

}  // namespace comfydist::nn
