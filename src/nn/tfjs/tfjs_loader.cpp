// Translates the Keras layer graph of a TF.js model.json into the network IR.
#include "nn/tfjs/tfjs_loader.hpp"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "nn/tfjs/tfjs_layers.hpp"
#include "nn/tfjs/tfjs_weights.hpp"

namespace comfydist::nn {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// model.json of esrgan-thick is about 0.5 MB; anything far larger is not a model we know.
constexpr std::uintmax_t max_json_bytes = 64U << 20;
constexpr std::size_t max_layers = 100000;

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument("model.json: " + what);
}

json read_json(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw std::invalid_argument("model.json not found: " + path.string());
  }
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec || size > max_json_bytes) {
    fail("file is too large or unreadable");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size))) {
    fail("cannot read " + path.string());
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    fail(std::string("not valid JSON: ") + e.what());
  }
}

// The layers of a Functional/Model or Sequential config, with Sequential chained explicitly.
json layer_list(const json& model_config) {
  if (!model_config.is_object()) {
    fail("'modelTopology' has no model config");
  }
  const std::string cls = model_config.value("class_name", std::string());
  const json& config = model_config.contains("config") ? model_config["config"] : json();
  if (cls == "Model" || cls == "Functional") {
    if (!config.is_object() || !config.contains("layers") || !config["layers"].is_array()) {
      fail("the model config has no layer list");
    }
    return config["layers"];
  }
  if (cls == "Sequential") {
    const json& layers = config.is_array() ? config : config.value("layers", json());
    if (!layers.is_array()) {
      fail("the Sequential config has no layer list");
    }
    json chained = json::array();
    std::string previous;
    for (json layer : layers) {
      if (!layer.is_object() || !layer.contains("config") || !layer["config"].is_object()) {
        fail("a Sequential layer has no config");
      }
      const std::string name = layer["config"].value("name", std::string());
      layer["name"] = name;
      if (previous.empty() && layer.value("class_name", std::string()) != "InputLayer") {
        json input = {{"class_name", "InputLayer"},
                      {"name", "input"},
                      {"config", {{"name", "input"}}},
                      {"inbound_nodes", json::array()}};
        if (layer["config"].contains("batch_input_shape")) {
          input["config"]["batch_input_shape"] = layer["config"]["batch_input_shape"];
        }
        chained.push_back(input);
        previous = "input";
      }
      if (!previous.empty()) {
        layer["inbound_nodes"] = json::array({json::array({json::array({previous, 0, 0})})});
      }
      chained.push_back(layer);
      previous = name;
    }
    return chained;
  }
  fail("unsupported model class '" + cls + "'");
}

std::string single_layer_name(const json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) {
    return {};
  }
  const json& list = config[key];
  if (!list.is_array() || list.size() != 1 || !list[0].is_array() || list[0].empty() ||
      !list[0][0].is_string()) {
    fail(std::string("the model must have exactly one entry in '") + key + "'");
  }
  return list[0][0].get<std::string>();
}

std::shared_ptr<const graph> load(const fs::path& model_json) {
  const json doc = read_json(model_json);
  if (!doc.is_object() || !doc.contains("modelTopology")) {
    fail("no 'modelTopology' (not a TF.js layers model)");
  }
  const json& topology = doc["modelTopology"];
  const json& model_config = topology.is_object() && topology.contains("model_config")
                                 ? topology["model_config"]
                                 : topology;
  const json layers = layer_list(model_config);
  if (layers.empty() || layers.size() > max_layers) {
    fail("the layer list is empty or too long");
  }
  auto weights = tfjs::read_weights(
      doc.contains("weightsManifest") ? doc["weightsManifest"] : json(), model_json.parent_path());
  const json& config = model_config.value("config", json());
  tfjs::layer_translator translator(std::move(weights));
  translator.translate(layers, single_layer_name(config, "input_layers"),
                       single_layer_name(config, "output_layers"));
  return std::make_shared<const graph>(translator.finish());
}

}  // namespace

std::shared_ptr<const graph> load_tfjs_model(const fs::path& model_json) {
  try {
    return load(model_json);
  } catch (const json::exception& e) {
    // A field of an unexpected JSON type somewhere in a hostile file.
    fail(std::string("unexpected content: ") + e.what());
  }
}

}  // namespace comfydist::nn
