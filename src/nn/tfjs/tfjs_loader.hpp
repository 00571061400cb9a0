// Loader for TF.js "layers-model" files (model.json + binary weight shards), as shipped by the
// @upscalerjs model packages: reads the Keras layer graph and its weights into a graph.
#pragma once

#include <filesystem>
#include <memory>

#include "nn/graph.hpp"

namespace comfydist::nn {

// Throws std::invalid_argument naming the file and the problem (unknown layer type, missing or
// truncated shard, weights whose size does not fit their declared shape, shard paths leaving the
// model folder, hostile JSON).
std::shared_ptr<const graph> load_tfjs_model(const std::filesystem::path& model_json);

}  // namespace comfydist::nn
