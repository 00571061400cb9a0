// The master's view of what the cluster's workers can run: a registry merged from the workers'
// GET /object_info answers to validate prompts against, and the per-worker pre-flight check of
// design.md §4.
#pragma once

#include <string>
#include <vector>

#include "common/json.hpp"
#include "engine/node_environment.hpp"
#include "engine/node_registry.hpp"

namespace comfydist::master {

struct worker_node_info {
  std::string worker_id;
  std::string worker_name;
  json object_info;  // the worker's GET /object_info answer, untrusted
};

// A registry to validate prompts against. It holds:
// - every class some worker offers. Workers are taken in order; the first one that offers a class
//   gives its schema, later ones add the options of combo inputs (union, first-seen order) and
//   inputs it lacks, as optional ones, since the workers without them run the class without them.
// - the classes named in `master_only` (the distributed nodes the master resolves itself), with
//   the master's own definition.
// - for classes that take uploaded images (an input with "image_upload": true, i.e. LoadImage and
//   LoadImageMask) and that the master defines, the master's definition whole (info,
//   refresh_info, hooks): the master holds the input files and uploads them to the workers, so its
//   input folder, not theirs, decides which names are valid.
// Definitions built from worker info have no `create`: the master never runs them. Malformed
// worker entries (a class that is not an object, an input section that is not an object) are
// skipped or repaired so that validation never trips over them. Throws std::invalid_argument when
// a `master_only` class is not in `master_nodes`.
class node_catalog {
 public:
  node_catalog(const engine::node_registry& master_nodes,
               const std::vector<std::string>& master_only,
               const std::vector<worker_node_info>& workers);

  const engine::node_registry& registry() const { return registry_; }
  // The master's GET /object_info: the registry's, with the master's own dynamic parts refreshed.
  json object_info(const engine::node_environment& master_environment) const;

 private:
  engine::node_registry registry_;
};

// What `worker_object_info` lacks to run `prompt` (a stock API prompt): one sentence per problem,
// e.g. "no node ImageUpscaleWithModel" or "UpscaleModelLoader.model_name: no 'foo.pth' (has:
// a.pth, b.pth)". Empty: the worker can run it. Links and inputs not in the worker's schema are
// ignored, and only constant values of combo inputs are checked. Inputs that take uploaded images
// are not checked: the master uploads those files before dispatch. Never throws on malformed JSON
// in either argument.
std::vector<std::string> preflight(const json& prompt, const json& worker_object_info);

}  // namespace comfydist::master
