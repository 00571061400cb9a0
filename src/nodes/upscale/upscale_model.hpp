// The UPSCALE_MODEL value passed from UpscaleModelLoader to ImageUpscaleWithModel: a loaded
// network graph compiled for the CPU backend, shared by every prompt that reuses the cached loader
// output.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/node_environment.hpp"
#include "engine/node_value.hpp"
#include "nn/backend.hpp"
#include "nn/graph.hpp"

namespace comfydist::nodes {

inline constexpr const char* upscale_model_type = "UPSCALE_MODEL";

struct upscale_model {
  std::string name;  // as chosen in UpscaleModelLoader, for messages
  std::shared_ptr<const nn::graph> graph;
  // Declared before the network so that it outlives it.
  std::unique_ptr<nn::backend> backend;
  std::unique_ptr<nn::compiled_network> network;
  // A compiled network runs one input at a time.
  mutable std::mutex run_mutex;
};

// Wraps a model as the opaque value the executor caches; byte_size counts the graph's weights and
// the backend's prepared copy of them.
std::shared_ptr<const engine::opaque_value> make_upscale_model_value(
    std::shared_ptr<const upscale_model> model);

// The names UpscaleModelLoader offers (and GET /models/upscale_models lists): loadable files of
// the upscale model folders, and the bundled models by their clear names.
std::vector<std::string> upscale_model_names(const engine::node_environment& env);

// The model behind an UPSCALE_MODEL input; throws node_error("TypeError") for another type.
std::shared_ptr<const upscale_model> upscale_model_from(const engine::opaque_value& value);

}  // namespace comfydist::nodes
