// The weightsManifest of a TF.js model: tensors by name, read from the shards of each group.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace comfydist::nn::tfjs {

struct tfjs_tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

// Reads every float32 tensor of the manifest. Shard paths are confined to `folder`.
std::map<std::string, tfjs_tensor> read_weights(const nlohmann::json& manifest,
                                                const std::filesystem::path& folder);

}  // namespace comfydist::nn::tfjs
