// Reading and editing the configuration over HTTP.
#include "common/api_error.hpp"
#include "common/json_text.hpp"
#include "common/uuid.hpp"
#include "master/config_error.hpp"
#include "master/config_validation.hpp"
#include "master/first_start.hpp"
#include "master/master_routes.hpp"
#include "net/auth_token.hpp"

namespace comfydist::master {
namespace {

json object_body(const net::http_request& request) {
  json body = parse_json_body(request.body);
  if (!body.is_object()) {
    throw api_error(400, "invalid_request", "the request body must be a JSON object");
  }
  return body;
}

net::http_response config_problem(const config_error& error) {
  json e = json::object();
  e["type"] = "invalid_config";
  e["message"] = error.what();
  e["fields"] = error.to_json();
  json body = json::object();
  body["error"] = e;
  return master_json(400, body);
}

// Fields a client may set on a worker, applied over `worker`.
void apply_worker_fields(worker_config& worker, const json& body) {
  json merged = to_json(worker);
  for (const auto& [key, value] : body.items()) {
    if (key == "id") {
      continue;  // ids are the server's
    }
    merged[key] = value;
  }
  // A host typed with a scheme, path or port is normalised.
  if (merged.contains("host") && merged["host"].is_string()) {
    const normalized_host host = normalize_host(merged["host"].get<std::string>());
    merged["host"] = host.host;
    if (host.port && !body.contains("port")) {
      merged["port"] = *host.port;
    }
    if (host.https && merged.value("type", "") == "remote") {
      merged["type"] = "cloud";
    }
  }
  const std::string id = worker.id;
  worker = worker_config_from_json(merged);
  worker.id = id;
  if (worker.type != worker_type::local) {
    worker.cuda_device.reset();
  }
}

std::size_t find_index(const cluster_config& config, const std::string& id) {
  for (std::size_t i = 0; i < config.workers.size(); ++i) {
    if (config.workers[i].id == id) {
      return i;
    }
  }
  throw api_error(404, "worker_not_found", "no worker with id '" + id + "'");
}

}  // namespace

void add_master_route(net::http_server& server, master_context& context, const std::string& method,
                      const std::string& path, const net::http_handler& handler) {
  net::http_handler guarded = handler;
  if (context.auth_token) {
    guarded = [&context, handler](net::http_request request, net::http_responder reply) {
      if (!net::request_authorized(request, *context.auth_token)) {
        throw api_error(401, "unauthorized",
                        "this master needs its auth token: send 'Authorization: Bearer <token>'");
      }
      handler(std::move(request), std::move(reply));
    };
  }
  server.add_route(method, path, guarded);
  server.add_route(method, "/api" + path, guarded);
}

net::http_response master_json(int status, const json& body) {
  return net::http_response::json(status, to_text(body));
}

void add_config_routes(net::http_server& server, master_context& context) {
  add_master_route(server, context, "GET", "/distributed/config",
                   [&context](const net::http_request&, const net::http_responder& reply) {
                     json body = to_json(context.store->snapshot());
                     body["load_problem"] = context.store->load_problem()
                                                ? json(*context.store->load_problem())
                                                : json(nullptr);
                     reply(master_json(200, body));
                   });
  add_master_route(server, context, "PUT", "/distributed/config/master",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const json body = object_body(request);
                     try {
                       const auto config = context.store->update([&](cluster_config& c) {
                         json merged = body;
                         if (merged.contains("host") && merged["host"].is_string()) {
                           merged["host"] = normalize_host(merged["host"].get<std::string>()).host;
                         }
                         c.master = master_config_from_json(merged, c.master);
                       });
                       reply(master_json(200, to_json(config.master)));
                     } catch (const config_error& e) {
                       reply(config_problem(e));
                     }
                   });
  add_master_route(server, context, "PUT", "/distributed/config/settings",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const json body = object_body(request);
                     try {
                       const auto config = context.store->update([&](cluster_config& c) {
                         c.settings = cluster_settings_from_json(body, c.settings);
                       });
                       reply(master_json(200, to_json(config.settings)));
                     } catch (const config_error& e) {
                       reply(config_problem(e));
                     }
                   });
  add_master_route(server, context, "GET", "/distributed/workers",
                   [&context](const net::http_request&, const net::http_responder& reply) {
                     json body = json::object();
                     body["workers"] = context.registry->workers_json();
                     reply(master_json(200, body));
                   });
  add_master_route(server, context, "POST", "/distributed/workers",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const json body = object_body(request);
                     std::string id = make_uuid4();
                     try {
                       context.store->update([&](cluster_config& c) {
                         worker_config worker;
                         worker.id = id;
                         worker.port = next_free_local_port(c);
                         // "Add worker" picks the next free CUDA device, as the extension does.
                         int device = 0;
                         for (const auto& w : c.workers) {
                           if (w.type == worker_type::local && w.cuda_device) {
                             try {
                               device = std::max(device, std::stoi(*w.cuda_device) + 1);
                             } catch (const std::exception&) {
                               // a list such as "0,1": not counted
                             }
                           }
                         }
                         if (!body.contains("type") || body["type"] == "local") {
                           worker.cuda_device = std::to_string(device);
                         }
                         apply_worker_fields(worker, body);
                         // "remote" with an https:// host became "cloud": its port is 443 too.
                         if (worker.type == worker_type::cloud && !body.contains("port") &&
                             body.contains("host") && body["host"].is_string() &&
                             !normalize_host(body["host"].get<std::string>()).port) {
                           worker.port = 443;
                         }
                         c.workers.push_back(worker);
                       });
                     } catch (const config_error& e) {
                       reply(config_problem(e));
                       return;
                     }
                     reply(master_json(200, context.registry->worker_json(id)));
                   });
  add_master_route(server, context, "PATCH", "/distributed/workers/{id}",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const json body = object_body(request);
                     const std::string id = request.path_params.at("id");
                     try {
                       context.store->update([&](cluster_config& c) {
                         apply_worker_fields(c.workers[find_index(c, id)], body);
                       });
                     } catch (const config_error& e) {
                       reply(config_problem(e));
                       return;
                     }
                     reply(master_json(200, context.registry->worker_json(id)));
                   });
  add_master_route(
      server, context, "DELETE", "/distributed/workers/{id}",
      [&context](const net::http_request& request, const net::http_responder& reply) {
        const std::string id = request.path_params.at("id");
        context.store->update([&](cluster_config& c) {
          c.workers.erase(c.workers.begin() + static_cast<std::ptrdiff_t>(find_index(c, id)));
        });
        json body = json::object();
        body["deleted"] = id;
        reply(master_json(200, body));
      });
}

}  // namespace comfydist::master
