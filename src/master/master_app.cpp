// Start-up and shutdown of the master: configuration, first-start workers, supervision, routes.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "master/config_store.hpp"
#include "master/data_dir_lock.hpp"
#include "master/first_start.hpp"
#include "master/gpu_detection.hpp"
#include "master/http_worker_probe.hpp"
#include "master/master_context.hpp"
#include "master/master_options.hpp"
#include "master/master_routes.hpp"
#include "net/auth_token.hpp"
#include "net/http_server.hpp"
#include "nodes/builtin_nodes.hpp"
#include "nodes/distributed_nodes.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
namespace {

bool is_loopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1" || address == "localhost";
}

}  // namespace

int run_master(const master_options& options) {
  master_context context;
  context.options = options;
  const fs::path data = options.data_dir;
  for (const auto& dir : {data, data / "logs" / "workers", data / "workers", data / "run",
                          data / "input", data / "output", data / "temp"}) {
    fs::create_directories(dir);
  }
  const data_dir_lock lock(data);
  if (!options.auth_token_file.empty()) {
    context.auth_token = net::read_auth_token(options.auth_token_file);
  }
  for (const auto& address : options.listen_addresses) {
    if (!is_loopback(address) && !context.auth_token && !options.insecure_no_auth) {
      spdlog::error(
          "refusing to listen on {} without an auth token: anyone on the network could launch "
          "processes through the master. Give --auth-token-file FILE, or --insecure-no-auth if "
          "the network is trusted",
          address);
      return 2;
    }
  }

  context.store = std::make_unique<config_store>(data / "comfydist.json");
  context.store->load();
  const cluster_config initial = context.store->update([](cluster_config& c) {
    if (!c.settings.has_auto_populated_workers && c.workers.empty()) {
      const auto gpus = detect_gpus();
      populate_first_start(c, gpus);
      spdlog::info("event=first_start gpus={} workers_added={}", gpus.size(), c.workers.size());
    }
    c.settings.has_auto_populated_workers = true;
  });

  net::async_http_client_options client_options;
  client_options.extra_ca_file = initial.settings.extra_ca_file;
  context.client = std::make_unique<net::async_http_client>(client_options);
  context.probe =
      std::make_unique<http_worker_probe>(*context.client, context.auth_token.value_or(""));

  launch_context launch;
  launch.comfydist_binary = options.comfydist_binary;
  launch.workers_dir = data / "workers";
  launch.logs_dir = data / "logs" / "workers";
  launch.pid_file = data / "run" / "local_workers.json";
  launch.die_with_master = initial.settings.stop_workers_on_master_exit;
  launch.auth_token_file = options.auth_token_file.string();
  registry_timing timing;
  timing.auto_launch = !options.no_auto_launch;
  context.registry = std::make_unique<worker_registry>(
      *context.store, launch, *context.probe,
      [&context](const json& worker) {
        context.hub.broadcast("distributed_worker_status", worker);
      },
      timing);

  context.environment.input_dir = data / "input";
  context.environment.output_dir = data / "output";
  context.environment.temp_dir = data / "temp";
  context.environment.threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  nodes::register_builtin_nodes(context.nodes);
  nodes::register_distributed_nodes(context.nodes);
  nodes::register_master_nodes(context.nodes);
  context.pool = std::make_unique<task_pool>(4, 256);
  context.jobs = std::make_unique<job_store>(data / "comfydist.db");
  context.catalog = std::make_unique<worker_catalog>(
      *context.client, context.auth_token.value_or(""), context.nodes, distributed_node_names());
  master_folders folders{context.environment.input_dir, context.environment.output_dir,
                         context.environment.temp_dir};
  context.scheduler = std::make_unique<job_scheduler>(
      *context.jobs, *context.store, *context.registry, *context.catalog, *context.client,
      context.auth_token.value_or(""), context.nodes, folders,
      [&context](const std::string& client_id, const std::string& type, const json& data) {
        context.hub.send(client_id, type, data);
      });

  net::http_server_options server_options;
  server_options.addresses = options.listen_addresses;
  server_options.port = static_cast<std::uint16_t>(options.port.value_or(initial.master.port));
  server_options.server_name = "comfydist-master";
  server_options.max_body_bytes = std::size_t{100} << 20;  // uploads, as a worker takes them
  net::http_server server(server_options);
  add_config_routes(server, context);
  add_worker_control_routes(server, context);
  add_master_websocket(server, context);
  add_front_door_routes(server, context);
  add_job_routes(server, context);
  add_panel_routes(server);

  server.start();
  context.registry->start();
  context.scheduler->start();
  net::stop_on_signals(server);
  spdlog::info("event=master_listening port={} data_dir={} workers={}", server.bound_port(),
               data.string(), initial.workers.size());
  std::printf("comfydist master ready on port %u\n", static_cast<unsigned>(server.bound_port()));
  std::fflush(stdout);
  server.wait();
  const bool stop_workers = context.store->snapshot().settings.stop_workers_on_master_exit;
  spdlog::info("event=master_stopping stop_workers={}", stop_workers);
  context.scheduler->stop();
  context.registry->shutdown(stop_workers);
  context.client->stop();
  server.stop();
  return 0;
}

}  // namespace comfydist::master
