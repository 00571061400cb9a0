// Fetching and caching the workers' node lists.
#include "master/worker_catalog.hpp"

#include <spdlog/spdlog.h>

#include "comfy/comfy_client.hpp"

namespace comfydist::master {

worker_catalog::worker_catalog(net::async_http_client& http, std::string auth_token,
                               const engine::node_registry& master_nodes,
                               std::vector<std::string> master_only, std::chrono::seconds max_age)
    : http_(http),
      auth_token_(std::move(auth_token)),
      master_nodes_(master_nodes),
      master_only_(std::move(master_only)),
      max_age_(max_age) {}

std::shared_ptr<const json> worker_catalog::info(const worker_config& worker) {
  const auto now = std::chrono::steady_clock::now();
  {
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find(worker.id);
    if (it != entries_.end() && now - it->second.fetched < max_age_) {
      return it->second.info;
    }
  }
  comfy::comfy_endpoint endpoint;
  endpoint.scheme = worker.type == worker_type::cloud ? "https" : "http";
  endpoint.host = worker.type == worker_type::local ? "127.0.0.1" : worker.host;
  endpoint.port = static_cast<std::uint16_t>(worker.port);
  endpoint.auth_token = auth_token_;
  comfy::comfy_client client(http_, endpoint, std::chrono::seconds(10));
  try {
    json fetched = client.object_info();
    if (!fetched.is_object()) {
      throw comfy::comfy_error("GET /object_info answered something that is not an object");
    }
    const std::lock_guard lock(mutex_);
    entry& e = entries_[worker.id];
    if (!e.info || *e.info != fetched) {
      e.generation = next_generation_++;
      e.info = std::make_shared<const json>(std::move(fetched));
    }
    e.fetched = now;
    return e.info;
  } catch (const std::exception& ex) {
    spdlog::warn("event=object_info_failed worker={} error=\"{}\"", worker.name, ex.what());
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find(worker.id);
    if (it != entries_.end()) {
      return it->second.info;
    }
    return nullptr;
  }
}

std::shared_ptr<const node_catalog> worker_catalog::catalog(
    const std::vector<worker_config>& workers) {
  std::vector<std::pair<const worker_config*, std::shared_ptr<const json>>> answers;
  answers.reserve(workers.size());
  for (const auto& worker : workers) {
    if (auto answer = info(worker)) {
      answers.emplace_back(&worker, std::move(answer));
    }
  }
  const std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, std::uint64_t>> key;
  key.reserve(answers.size());
  for (const auto& [worker, answer] : answers) {
    key.emplace_back(worker->id, entries_[worker->id].generation);
  }
  if (!built_ || key != built_from_) {
    // Copies of the node lists only when the catalog changes: a ComfyUI's list is megabytes.
    std::vector<worker_node_info> infos;
    infos.reserve(answers.size());
    for (const auto& [worker, answer] : answers) {
      infos.push_back(worker_node_info{worker->id, worker->name, *answer});
    }
    built_ = std::make_shared<const node_catalog>(master_nodes_, master_only_, infos);
    built_from_ = std::move(key);
  }
  return built_;
}

void worker_catalog::forget(const std::string& worker_id) {
  const std::lock_guard lock(mutex_);
  entries_.erase(worker_id);
}

}  // namespace comfydist::master
