// Recursive, memoised cache-key computation over the prompt graph.
#include "engine/cache_keys.hpp"

#include <set>
#include <vector>

#include "common/sha256.hpp"
#include "engine/prompt_validator.hpp"

namespace comfydist::engine {
namespace {

class key_builder {
 public:
  key_builder(json& prompt, const node_registry& registry, const node_environment& environment)
      : prompt_(prompt), registry_(registry), environment_(environment) {}

  std::optional<std::string> key(const std::string& id) {
    if (const auto it = keys_.find(id); it != keys_.end()) {
      return it->second;
    }
    if (!visiting_.insert(id).second || !prompt_.contains(id)) {
      return std::nullopt;
    }
    std::optional<std::string> result = build(id);
    visiting_.erase(id);
    keys_[id] = result;
    return result;
  }

 private:
  std::optional<std::string> build(const std::string& id) {
    json& node = prompt_[id];
    if (!node.is_object() || !node.contains("class_type") || !node["class_type"].is_string()) {
      return std::nullopt;
    }
    const node_definition* definition = registry_.find(node["class_type"].get<std::string>());
    if (definition == nullptr) {
      return std::nullopt;
    }
    json signature = json::array();
    signature.push_back(definition->name());
    const json inputs =
        node.contains("inputs") && node["inputs"].is_object() ? node["inputs"] : json::object();
    if (definition->is_changed) {
      json fingerprint;
      if (node.contains("is_changed")) {
        fingerprint = node["is_changed"];
      } else {
        json constants = json::object();
        for (const auto& [name, value] : inputs.items()) {
          constants[name] = is_link(value) ? json(nullptr) : value;
        }
        try {
          fingerprint = json::array({definition->is_changed(constants, environment_)});
        } catch (const std::exception&) {
          return std::nullopt;  // ComfyUI: NaN, which never compares equal
        }
        node["is_changed"] = fingerprint;
      }
      signature.push_back(fingerprint);
    } else {
      signature.push_back(false);
    }
    // Inputs sorted by name (ordered_json keeps insertion order, so sort explicitly).
    std::vector<std::string> names;
    for (const auto& [name, value] : inputs.items()) {
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      const json& value = inputs[name];
      if (is_link(value)) {
        const auto source = key(value[0].get<std::string>());
        if (!source) {
          return std::nullopt;
        }
        signature.push_back(json::array({name, json::array({"ANCESTOR", *source, value[1]})}));
      } else {
        signature.push_back(json::array({name, value}));
      }
    }
    return sha256_hex(signature.dump());
  }

  json& prompt_;
  const node_registry& registry_;
  const node_environment& environment_;
  std::map<std::string, std::optional<std::string>> keys_;
  std::set<std::string> visiting_;
};

}  // namespace

std::map<std::string, std::string> compute_cache_keys(json& prompt, const node_registry& registry,
                                                      const node_environment& environment) {
  key_builder builder(prompt, registry, environment);
  std::map<std::string, std::string> out;
  std::vector<std::string> ids;
  for (const auto& [id, node] : prompt.items()) {
    ids.push_back(id);
  }
  for (const auto& id : ids) {
    if (const auto k = builder.key(id)) {
      out[id] = *k;
    }
  }
  return out;
}

}  // namespace comfydist::engine
