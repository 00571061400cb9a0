// The upscale models bundled through npm (@upscalerjs packages installed by scripts/bootstrap
// under third_party/upscalerjs): found on disk and named for UpscaleModelLoader.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace comfydist::nn {

struct bundled_model {
  std::string name;                  // e.g. "esrgan-thick-x4", "default-model-x2"
  std::string package;               // e.g. "esrgan-thick"
  int scale = 0;                     // upscale factor
  std::filesystem::path model_json;  // the TF.js model.json (weight shards beside it)
};

// Every model.json under root/node_modules/@upscalerjs/<package>/models/ (root may also be the
// node_modules or the @upscalerjs folder itself), sorted by name. Missing folders: empty list.
std::vector<bundled_model> find_bundled_models(const std::filesystem::path& root);

}  // namespace comfydist::nn
