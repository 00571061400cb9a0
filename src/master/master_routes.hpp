// Registration of the master's routes, grouped by concern. Every route also answers under /api
// (as ComfyUI registers extension routes) and, with an auth token, requires it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "master/master_context.hpp"
#include "net/http_server.hpp"

namespace comfydist::master {

// Registers `path` and "/api" + `path`, wrapped in the auth check when the master has a token.
void add_master_route(net::http_server& server, master_context& context, const std::string& method,
                      const std::string& path, const net::http_handler& handler);

net::http_response master_json(int status, const json& body);

// /distributed/config, /distributed/config/master, /distributed/config/settings,
// /distributed/workers (list, add, edit, delete).
void add_config_routes(net::http_server& server, master_context& context);
// launch, stop, log, interrupt, clear_memory, network_info, login.
void add_worker_control_routes(net::http_server& server, master_context& context);
// The ComfyUI API of the cluster: /prompt, /queue, /history, /interrupt, /object_info,
// /system_stats, /features, /view, /upload/image.
void add_front_door_routes(net::http_server& server, master_context& context);
// /distributed/queue and /distributed/jobs.
void add_job_routes(net::http_server& server, master_context& context);

struct validated_prompt {
  json prompt;
  std::vector<std::string> outputs;
  json node_errors = json::object();
};
// Validates against what the online workers offer (plus the distributed nodes). Throws
// prompt_rejected (ComfyUI's 400 body) or api_error(503) when no worker is online.
validated_prompt validate_for_cluster(master_context& context, json prompt,
                                      const std::optional<std::vector<std::string>>& targets);

// /ws: ComfyUI's status greeting, then distributed_worker_status on every change and the jobs'
// events.
void add_master_websocket(net::http_server& server, master_context& context);
void add_panel_routes(net::http_server& server);  // GET / and /assets/{file}: the web panel

}  // namespace comfydist::master
