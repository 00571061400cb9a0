// Import of a ComfyUI-Distributed gpu_config.json (workers, master host, settings) into our
// configuration, so users switch in one command.
#pragma once

#include <string>
#include <vector>

#include "common/json.hpp"
#include "master/cluster_config.hpp"

namespace comfydist::master {

struct import_result {
  cluster_config config;
  std::vector<std::string> notes;  // what was mapped, skipped or changed, for the user
};

// Merges the extension's config into `base`: workers are added (their ids kept when they are
// UUIDs, host/port normalised, `listen_port` accepted), master host copied, known settings mapped.
import_result import_distributed_config(const json& gpu_config, const cluster_config& base);

}  // namespace comfydist::master
