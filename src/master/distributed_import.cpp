// Mapping ComfyUI-Distributed's gpu_config.json onto comfydist.json.
#include "master/distributed_import.hpp"

#include "common/uuid.hpp"
#include "master/config_error.hpp"
#include "master/config_validation.hpp"

namespace comfydist::master {

import_result import_distributed_config(const json& gpu_config, const cluster_config& base) {
  if (!gpu_config.is_object()) {
    throw config_error("(file)", "a ComfyUI-Distributed gpu_config.json is a JSON object");
  }
  import_result result;
  result.config = base;
  if (const auto master = gpu_config.find("master");
      master != gpu_config.end() && master->is_object()) {
    if (master->contains("host") && (*master)["host"].is_string()) {
      result.config.master.host = normalize_host((*master)["host"].get<std::string>()).host;
    }
    if (master->contains("name") && (*master)["name"].is_string()) {
      result.config.master.name = (*master)["name"].get<std::string>();
    }
  }
  if (const auto settings = gpu_config.find("settings");
      settings != gpu_config.end() && settings->is_object()) {
    auto& s = result.config.settings;
    for (const char* key : {"auto_launch_workers", "stop_workers_on_master_exit"}) {
      if (settings->contains(key) && (*settings)[key].is_boolean()) {
        (std::string(key) == "auto_launch_workers" ? s.auto_launch_workers
                                                   : s.stop_workers_on_master_exit) =
            (*settings)[key].get<bool>();
      }
    }
    if (settings->contains("worker_timeout_seconds") &&
        (*settings)["worker_timeout_seconds"].is_number()) {
      s.worker_timeout_seconds = (*settings)["worker_timeout_seconds"].get<int>();
    }
    if (settings->value("master_delegate_only", false)) {
      result.notes.push_back(
          "settings.master_delegate_only: the comfydist master never runs heavy nodes itself, so "
          "this setting has no counterpart");
    }
    s.has_auto_populated_workers = true;
  }
  const auto workers = gpu_config.find("workers");
  if (workers != gpu_config.end() && workers->is_array()) {
    for (const auto& w : *workers) {
      if (!w.is_object()) {
        result.notes.push_back("skipped a worker entry that is not an object");
        continue;
      }
      worker_config worker;
      const std::string id = w.value("id", std::string());
      worker.id = is_canonical_uuid(id) ? id : make_uuid4();
      if (!id.empty() && worker.id != id) {
        result.notes.push_back("worker '" + id + "' got the id " + worker.id);
      }
      worker.name = w.value("name", std::string());
      const std::string type = w.value("type", std::string("local"));
      worker.type = parse_worker_type(type).value_or(worker_type::local);
      if (w.contains("host") && w["host"].is_string()) {
        const normalized_host host = normalize_host(w["host"].get<std::string>());
        if (worker.type != worker_type::local) {
          worker.host = host.host;
        }
        if (host.port && *host.port > 0) {
          worker.port = *host.port;
        }
        if (host.https && worker.type == worker_type::remote) {
          worker.type = worker_type::cloud;
        }
      }
      for (const char* key : {"port", "listen_port"}) {
        if (w.contains(key) && w[key].is_number_integer()) {
          worker.port = w[key].get<int>();
          break;
        }
      }
      if (worker.type == worker_type::cloud && !w.contains("port") && !w.contains("listen_port")) {
        worker.port = 443;
      }
      if (w.contains("cuda_device") && w["cuda_device"].is_number_integer()) {
        worker.cuda_device = std::to_string(w["cuda_device"].get<int>());
      } else if (w.contains("cuda_device") && w["cuda_device"].is_string()) {
        worker.cuda_device = w["cuda_device"].get<std::string>();
      }
      worker.extra_args = w.value("extra_args", std::string());
      worker.enabled = w.value("enabled", true);
      // The extension's local workers are ComfyUI processes.
      worker.engine = worker_engine::comfyui;
      result.config.workers.push_back(worker);
      result.notes.push_back("imported " + to_string(worker.type) + " worker '" + worker.name +
                             "' (" + (worker.host.empty() ? "localhost" : worker.host) + ":" +
                             std::to_string(worker.port) + ")");
    }
  }
  for (const char* ignored : {"tunnel", "managed_processes"}) {
    if (gpu_config.contains(ignored)) {
      result.notes.push_back(std::string("ignored '") + ignored +
                             "': comfydist needs no tunnel and tracks its own processes");
    }
  }
  validate_config(result.config);
  return result;
}

}  // namespace comfydist::master
