// UpscaleModelLoader: an upscale model from models/upscale_models (or a bundled
// TF.js model by its clear name), loaded into a graph and compiled once for the
// CPU backend.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>

#include "engine/model_folders.hpp"
#include "nn/bundled_models.hpp"
#include "nn/model_file.hpp"
#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"
#include "nodes/upscale/upscale_model.hpp"

namespace comfydist::nodes {
namespace {

namespace fs = std::filesystem;

constexpr const char* folder_key = "upscale_models";

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "model_name": [
        "COMBO",
        {
          "multiselect": false,
          "options": []
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "model_name"
    ]
  },
  "is_input_list": false,
  "output": [
    "UPSCALE_MODEL"
  ],
  "output_is_list": [
    false
  ],
  "output_name": [
    "UPSCALE_MODEL"
  ],
  "output_tooltips": [
    null
  ],
  "output_matchtypes": null,
  "name": "UpscaleModelLoader",
  "display_name": "Load Upscale Model",
  "description": "",
  "python_module": "comfy_extras.nodes_upscale_model",
  "category": "model/loaders",
  "output_node": false,
  "deprecated": false,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": null,
  "essentials_category": null,
  "has_intermediate_output": false
})json";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// The files nn::load_model_file reads: checkpoints by extension, TF.js models
// by their model.json.
bool is_loadable(const std::string& relative_name) {
  static const std::set<std::string> extensions{".pth", ".pt",   ".safetensors",
                                                ".sft", ".ckpt", ".bin"};
  const fs::path path(relative_name);
  return path.filename() == "model.json" || extensions.count(lower(path.extension().string())) > 0;
}

// A folder holding the bundled npm packages lists its models by their clear
// names only; any other folder lists its loadable files, as ComfyUI's
// get_filename_list does.
std::vector<std::string> list_names(const engine::node_environment& env) {
  std::set<std::string> names;
  const auto folders = env.model_folders.find(folder_key);
  if (folders == env.model_folders.end()) {
    return {};
  }
  for (const fs::path& dir : folders->second) {
    const std::vector<nn::bundled_model> bundled = nn::find_bundled_models(dir);
    if (!bundled.empty()) {
      for (const nn::bundled_model& model : bundled) {
        names.insert(model.name);
      }
      continue;
    }
    const engine::model_folder_map one{{folder_key, {dir}}};
    for (const std::string& name :
         engine::list_model_files(one, folder_key).value_or(std::vector<std::string>{})) {
      if (is_loadable(name)) {
        names.insert(name);
      }
    }
  }
  return {names.begin(), names.end()};
}

// get_full_path: the first folder that has the name wins; in a bundled folder
// the name is a model's clear name.
std::optional<fs::path> resolve(const std::string& name, const engine::node_environment& env) {
  const auto folders = env.model_folders.find(folder_key);
  if (folders == env.model_folders.end()) {
    return std::nullopt;
  }
  for (const fs::path& dir : folders->second) {
    const std::vector<nn::bundled_model> bundled = nn::find_bundled_models(dir);
    if (!bundled.empty()) {
      const auto found = std::find_if(bundled.begin(), bundled.end(),
                                      [&](const nn::bundled_model& m) { return m.name == name; });
      if (found != bundled.end()) {
        return found->model_json;
      }
      continue;
    }
    const engine::model_folder_map one{{folder_key, {dir}}};
    if (auto path = engine::find_model_file(one, folder_key, name)) {
      return path;
    }
  }
  return std::nullopt;
}

void refresh_info(json& node_info, const engine::node_environment& env) {
  node_info["input"]["required"]["model_name"][1]["options"] = list_names(env);
}

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const std::string& name = inputs.get_string("model_name");
  const engine::node_environment& env = context.environment();
  const std::optional<fs::path> path = resolve(name, env);
  if (!path) {
    throw engine::node_error(
        "FileNotFoundError",
        "Model in folder 'upscale_models' with filename '" + name + "' not found.");
  }
  auto model = std::make_shared<upscale_model>();
  model->name = name;
  try {
    model->graph = nn::load_model_file(*path);
    context.check_interrupt();
    model->backend = nn::make_cpu_backend(env.threads);
    model->network = model->backend->compile(model->graph);
  } catch (const std::invalid_argument& ex) {
    throw engine::node_error("ValueError", ex.what());
  }
  return single_output(make_upscale_model_value(std::move(model)));
}

}  // namespace

engine::node_definition upscale_model_loader_node() {
  engine::node_definition definition = make_definition(info, execute);
  definition.refresh_info = refresh_info;
  return definition;
}

std::vector<std::string> upscale_model_names(const engine::node_environment& env) {
  return list_names(env);
}

}  // namespace comfydist::nodes
