// The first start of a master: one local worker per GPU (ports 8189, 8190, …), or one native CPU
// worker when there is none; recorded so that a user who deletes workers is not re-populated.
#pragma once

#include <vector>

#include "master/cluster_config.hpp"
#include "master/gpu_detection.hpp"

namespace comfydist::master {

// Adds the workers to `config` when it was never populated and has no workers; returns whether it
// changed anything.
bool populate_first_start(cluster_config& config, const std::vector<gpu_info>& gpus);

// The lowest port from 8189 up that neither the master nor a local worker uses.
int next_free_local_port(const cluster_config& config);

}  // namespace comfydist::master
