// Keras layers (as TF.js serialises them) to graph nodes, with their weights.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/graph.hpp"
#include "nn/tfjs/tfjs_weights.hpp"

namespace comfydist::nn::tfjs {

class layer_translator {
 public:
  explicit layer_translator(std::map<std::string, tfjs_tensor> weights)
      : weights_(std::move(weights)) {}

  // Translates the layer list in dependency order. Empty names: the first InputLayer / the last
  // layer.
  void translate(const nlohmann::json& layers, const std::string& input_name,
                 const std::string& output_name);
  graph finish();

 private:
  struct layer {
    std::string name;
    std::string type;
    nlohmann::json config;
    std::vector<std::string> inbound;
  };

  static layer parse_layer(const nlohmann::json& j);
  void add_layer(const layer& l);
  int push(graph_node n, int channels, int scale);
  int conv(const layer& l, int in);
  int input_of(const layer& l, std::size_t k) const;

  std::map<std::string, tfjs_tensor> weights_;
  graph g_;
  std::vector<int> channels_;  // per node
  std::vector<int> scale_;     // per node: resolution multiplier
  std::map<std::string, int> outputs_;
  std::string last_;
  bool custom_layers_ = false;
};

}  // namespace comfydist::nn::tfjs
