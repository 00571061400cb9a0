// Wrapping and unwrapping the UPSCALE_MODEL opaque value.
#include "nodes/upscale/upscale_model.hpp"

#include "engine/node_error.hpp"

namespace comfydist::nodes {
namespace {

std::size_t graph_weight_bytes(const nn::graph& graph) {
  std::size_t values = 0;
  for (const nn::graph_node& node : graph.nodes) {
    values += node.conv.weights.size() + node.conv.bias.size() + node.slopes.size();
  }
  return values * sizeof(float);
}

}  // namespace

std::shared_ptr<const engine::opaque_value> make_upscale_model_value(
    std::shared_ptr<const upscale_model> model) {
  auto value = std::make_shared<engine::opaque_value>();
  value->type = upscale_model_type;
  value->byte_size = (model->graph ? graph_weight_bytes(*model->graph) : 0) +
                     (model->network ? model->network->weight_bytes() : 0);
  value->object = std::move(model);
  return value;
}

std::shared_ptr<const upscale_model> upscale_model_from(const engine::opaque_value& value) {
  if (value.type != upscale_model_type || !value.object) {
    throw engine::node_error("TypeError", "expected an UPSCALE_MODEL, got " + value.type);
  }
  auto model = std::static_pointer_cast<const upscale_model>(value.object);
  if (!model->graph || !model->network) {
    throw engine::node_error("ValueError",
                             "the upscale model '" + model->name + "' holds no compiled network");
  }
  return model;
}

}  // namespace comfydist::nodes
