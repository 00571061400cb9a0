// Model folder layout and listing, following ComfyUI's folder_paths.
#include "engine/model_folders.hpp"

#include <algorithm>
#include <set>
#include <system_error>

#include "common/safe_path.hpp"

namespace comfydist::engine {
namespace fs = std::filesystem;
namespace {

const std::set<std::string>& default_extensions() {
  static const std::set<std::string> extensions{".ckpt", ".pt",          ".pt2", ".bin",
                                                ".pth",  ".safetensors", ".pkl", ".sft"};
  return extensions;
}

// Keys with other extension rules: an empty set allows every file.
std::optional<std::set<std::string>> extensions_for(const std::string& key) {
  if (key == "configs") {
    return std::set<std::string>{".yaml"};
  }
  if (key == "custom_nodes" || key == "diffusers" || key == "classifiers") {
    return std::set<std::string>{};
  }
  if (key == "upscale_models") {
    // Our native loader also reads TF.js layer models (model.json) from the bundled packages.
    std::set<std::string> extensions = default_extensions();
    extensions.insert(".json");
    return extensions;
  }
  return default_extensions();
}

std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

}  // namespace

const std::vector<std::string>& model_folder_keys() {
  static const std::vector<std::string> keys{"checkpoints",
                                             "configs",
                                             "loras",
                                             "vae",
                                             "text_encoders",
                                             "diffusion_models",
                                             "clip_vision",
                                             "style_models",
                                             "embeddings",
                                             "diffusers",
                                             "vae_approx",
                                             "controlnet",
                                             "gligen",
                                             "upscale_models",
                                             "latent_upscale_models",
                                             "custom_nodes",
                                             "hypernetworks",
                                             "photomaker",
                                             "classifiers",
                                             "model_patches",
                                             "audio_encoders",
                                             "background_removal",
                                             "frame_interpolation",
                                             "geometry_estimation",
                                             "optical_flow",
                                             "detection"};
  return keys;
}

model_folder_map default_model_folders(const fs::path& models_dir) {
  model_folder_map folders;
  for (const auto& key : model_folder_keys()) {
    folders[key] = {models_dir / key};
  }
  folders["text_encoders"] = {models_dir / "text_encoders", models_dir / "clip"};
  folders["diffusion_models"] = {models_dir / "unet", models_dir / "diffusion_models"};
  folders["controlnet"] = {models_dir / "controlnet", models_dir / "t2i_adapter"};
  folders["custom_nodes"] = {models_dir.parent_path() / "custom_nodes"};
  return folders;
}

std::optional<std::vector<std::string>> list_model_files(const model_folder_map& folders,
                                                         const std::string& key) {
  const auto it = folders.find(key);
  if (it == folders.end()) {
    return std::nullopt;
  }
  const auto extensions = extensions_for(key).value_or(default_extensions());
  std::set<std::string> names;
  for (const auto& dir : it->second) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      continue;
    }
    // Bounded walk: a model folder with more files than this is not browsed further.
    constexpr std::size_t kMaxFiles = 100000;
    std::size_t seen = 0;
    for (auto entry =
             fs::recursive_directory_iterator(dir,
                                              fs::directory_options::follow_directory_symlink |
                                                  fs::directory_options::skip_permission_denied,
                                              ec);
         !ec && entry != fs::recursive_directory_iterator(); entry.increment(ec)) {
      if (++seen > kMaxFiles || entry.depth() > 16) {
        break;
      }
      if (entry->path().filename() == ".git") {
        entry.disable_recursion_pending();
        continue;
      }
      if (!entry->is_regular_file(ec)) {
        continue;
      }
      if (!extensions.empty() && extensions.count(lower(entry->path().extension().string())) == 0) {
        continue;
      }
      names.insert(fs::relative(entry->path(), dir, ec).generic_string());
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

std::optional<fs::path> find_model_file(const model_folder_map& folders, const std::string& key,
                                        const std::string& name) {
  const auto it = folders.find(key);
  if (it == folders.end()) {
    return std::nullopt;
  }
  for (const auto& dir : it->second) {
    auto candidate = confine_path(dir, name);
    std::error_code ec;
    if (candidate && fs::is_regular_file(*candidate, ec)) {
      return candidate;
    }
  }
  return std::nullopt;
}

}  // namespace comfydist::engine
