// What the master's routes share.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/task_pool.hpp"
#include "engine/node_environment.hpp"
#include "engine/node_registry.hpp"
#include "master/config_store.hpp"
#include "master/job_scheduler.hpp"
#include "master/job_store.hpp"
#include "master/master_options.hpp"
#include "master/status_hub.hpp"
#include "master/worker_catalog.hpp"
#include "master/worker_registry.hpp"
#include "net/async_http_client.hpp"

namespace comfydist::master {

struct master_context {
  master_options options;
  std::unique_ptr<config_store> store;
  std::unique_ptr<net::async_http_client> client;
  std::unique_ptr<worker_probe> probe;
  std::unique_ptr<worker_registry> registry;
  status_hub hub;
  std::optional<std::string> auth_token;
  // The master's own engine: the nodes it runs itself (batch ops, save, preview, the distributed
  // nodes) and its folders.
  engine::node_registry nodes;
  engine::node_environment environment;
  std::unique_ptr<job_store> jobs;
  std::unique_ptr<worker_catalog> catalog;
  std::unique_ptr<job_scheduler> scheduler;
  // Validation may wait on workers' node lists, uploads hash and decode: off the I/O thread.
  std::unique_ptr<task_pool> pool;
  std::mutex upload_mutex;
};

// The class names of the distributed nodes: the master resolves them, workers never see them.
const std::vector<std::string>& distributed_node_names();

}  // namespace comfydist::master
