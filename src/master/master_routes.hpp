// Registration of the master's routes, grouped by concern. Every route also answers under /api
// (as ComfyUI registers extension routes) and, with an auth token, requires it.
#pragma once

#include "master/master_context.hpp"
#include "net/http_server.hpp"

namespace comfydist::master {

// Registers `path` and "/api" + `path`, wrapped in the auth check when the master has a token.
void add_master_route(net::http_server& server, master_context& context, const std::string& method,
                      const std::string& path, net::http_handler handler);

net::http_response master_json(int status, const json& body);

// /distributed/config, /distributed/config/master, /distributed/config/settings,
// /distributed/workers (list, add, edit, delete).
void add_config_routes(net::http_server& server, master_context& context);
// launch, stop, log, interrupt, clear_memory, network_info, login.
void add_worker_control_routes(net::http_server& server, master_context& context);
// /ws: distributed_worker_status on every change.
void add_master_websocket(net::http_server& server, master_context& context);
void add_panel_routes(net::http_server& server);  // GET / and /assets/{file}: the web panel

}  // namespace comfydist::master
