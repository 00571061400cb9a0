// Cache keys of a prompt's nodes: class, IS_CHANGED fingerprint and constant inputs, with links
// replaced by the key of the node they come from. So node ids do not matter, identical
// sub-graphs share results, and re-queueing an identical prompt executes nothing
// (ComfyUI's CacheKeySetInputSignature).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/json.hpp"
#include "engine/node_registry.hpp"

namespace comfydist::engine {

// node id → key; a node whose key cannot be computed (a broken link outside the executed part,
// a failing IS_CHANGED) has no entry and is never served from the cache. IS_CHANGED results are
// written into the prompt's nodes as "is_changed", as ComfyUI does.
std::map<std::string, std::string> compute_cache_keys(json& prompt, const node_registry& registry,
                                                      const node_environment& environment);

}  // namespace comfydist::engine
