// Auto-population of local workers.
#include "master/first_start.hpp"

#include "common/uuid.hpp"

namespace comfydist::master {

int next_free_local_port(const cluster_config& config) {
  for (int port = 8189; port < 65535; ++port) {
    bool used = port == config.master.port;
    for (const auto& w : config.workers) {
      used = used || (w.type == worker_type::local && w.port == port);
    }
    if (!used) {
      return port;
    }
  }
  return 0;
}

bool populate_first_start(cluster_config& config, const std::vector<gpu_info>& gpus) {
  if (config.settings.has_auto_populated_workers || !config.workers.empty()) {
    config.settings.has_auto_populated_workers = true;
    return false;
  }
  config.settings.has_auto_populated_workers = true;
  if (gpus.empty()) {
    worker_config worker;
    worker.id = make_uuid4();
    worker.name = "CPU worker";
    worker.port = next_free_local_port(config);
    worker.engine = worker_engine::native;
    config.workers.push_back(worker);
    return true;
  }
  for (const auto& gpu : gpus) {
    worker_config worker;
    worker.id = make_uuid4();
    worker.name = "GPU " + std::to_string(gpu.index) + " (" + gpu.name + ")";
    worker.port = next_free_local_port(config);
    worker.cuda_device = std::to_string(gpu.index);
    worker.engine =
        config.settings.comfyui.root.empty() ? worker_engine::native : worker_engine::comfyui;
    config.workers.push_back(worker);
  }
  return true;
}

}  // namespace comfydist::master
