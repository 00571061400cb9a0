// Acting on workers: launch, stop, log tails, interrupt and memory clearing on every worker, the
// machine's network facts, and the panel's login.
#include <ifaddrs.h>
#include <netdb.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "common/api_error.hpp"
#include "common/json_text.hpp"
#include "common/uuid.hpp"
#include "master/gpu_detection.hpp"
#include "master/http_worker_probe.hpp"
#include "master/master_routes.hpp"
#include "net/auth_token.hpp"

namespace comfydist::master {
namespace {

// Sends the same stock request to every enabled worker and answers with one result per worker.
void forward_to_all(master_context& context, const std::string& target, const std::string& body,
                    const net::http_responder& reply) {
  const cluster_config config = context.store->snapshot();
  std::vector<worker_config> targets;
  for (const auto& w : config.workers) {
    if (w.enabled) {
      targets.push_back(w);
    }
  }
  if (targets.empty()) {
    json out = json::object();
    out["results"] = json::array();
    reply(master_json(200, out));
    return;
  }
  struct gather {
    std::mutex mutex;
    json results = json::array();
    std::size_t left = 0;
  };
  auto state = std::make_shared<gather>();
  state->left = targets.size();
  for (const auto& worker : targets) {
    context.client->fetch(
        worker_request(worker, "POST", target, body, context.auth_token.value_or("")),
        [state, worker, reply](const net::client_result& answer) {
          json entry = json::object();
          entry["id"] = worker.id;
          entry["name"] = worker.name;
          entry["ok"] = answer.ok && answer.status == 200;
          entry["error"] =
              answer.ok ? (answer.status == 200 ? json(nullptr)
                                                : json("HTTP " + std::to_string(answer.status)))
                        : json(answer.error);
          bool last = false;
          json results;
          {
            const std::lock_guard lock(state->mutex);
            state->results.push_back(entry);
            last = --state->left == 0;
            if (last) {
              results = state->results;
            }
          }
          if (last) {
            json out = json::object();
            out["results"] = results;
            reply(master_json(200, out));
          }
        });
  }
}

json network_info() {
  json out = json::object();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  out["hostname"] = host;
  json addresses = json::array();
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
      if (a->ifa_addr == nullptr ||
          (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6)) {
        continue;
      }
      char text[NI_MAXHOST] = {};
      const socklen_t size =
          a->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
      if (::getnameinfo(a->ifa_addr, size, text, sizeof text, nullptr, 0, NI_NUMERICHOST) == 0) {
        json entry = json::object();
        entry["interface"] = a->ifa_name;
        entry["address"] = text;
        addresses.push_back(entry);
      }
    }
    ::freeifaddrs(list);
  }
  out["addresses"] = addresses;
  json gpus = json::array();
  for (const auto& gpu : detect_gpus()) {
    json g = json::object();
    g["index"] = gpu.index;
    g["name"] = gpu.name;
    g["memory_total"] = gpu.memory_total_bytes;
    gpus.push_back(g);
  }
  out["gpus"] = gpus;
  return out;
}

}  // namespace

void add_worker_control_routes(net::http_server& server, master_context& context) {
  add_master_route(server, context, "POST", "/distributed/workers/{id}/launch",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const std::string id = request.path_params.at("id");
                     context.registry->launch(id);
                     reply(master_json(200, context.registry->worker_json(id)));
                   });
  add_master_route(server, context, "POST", "/distributed/workers/{id}/stop",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const std::string id = request.path_params.at("id");
                     context.registry->stop(id);
                     reply(master_json(200, context.registry->worker_json(id)));
                   });
  add_master_route(server, context, "GET", "/distributed/workers/{id}/log",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     std::size_t lines = 200;
                     if (const auto text = request.query_param("lines")) {
                       try {
                         lines = static_cast<std::size_t>(std::stoul(*text));
                       } catch (const std::exception&) {
                         throw api_error(400, "invalid_query", "'lines' must be a number");
                       }
                     }
                     json body = json::object();
                     body["lines"] =
                         context.registry->log_tail(request.path_params.at("id"), lines);
                     reply(master_json(200, body));
                   });
  add_master_route(server, context, "POST", "/distributed/interrupt",
                   [&context](const net::http_request&, const net::http_responder& reply) {
                     forward_to_all(context, "/interrupt", "{}", reply);
                   });
  add_master_route(server, context, "POST", "/distributed/clear_memory",
                   [&context](const net::http_request&, const net::http_responder& reply) {
                     forward_to_all(context, "/free",
                                    R"({"unload_models": true, "free_memory": true})", reply);
                   });
  add_master_route(server, context, "GET", "/distributed/network_info",
                   [](const net::http_request&, const net::http_responder& reply) {
                     reply(master_json(200, network_info()));
                   });
  // Login is reachable without a token: it is how a browser gets its session cookie.
  const net::http_handler login = [&context](const net::http_request& request,
                                             const net::http_responder& reply) {
    const json body = parse_json_body(request.body);
    const std::string token = body.is_object() ? body.value("token", std::string()) : "";
    if (!context.auth_token) {
      reply(master_json(200, json::parse(R"({"auth": false})")));
      return;
    }
    net::http_request probe;
    probe.headers["authorization"] = "Bearer " + token;
    if (!net::request_authorized(probe, *context.auth_token)) {
      throw api_error(401, "unauthorized", "wrong token");
    }
    net::http_response response = master_json(200, json::parse(R"({"auth": true})"));
    response.headers.emplace_back("Set-Cookie", net::session_cookie(*context.auth_token));
    reply(std::move(response));
  };
  server.add_route("POST", "/distributed/login", login);
  server.add_route("POST", "/api/distributed/login", login);
}

void add_master_websocket(net::http_server& server, master_context& context) {
  net::websocket_handlers handlers;
  handlers.on_open = [&context](const net::http_request& request,
                                const std::shared_ptr<net::websocket_connection>& connection) {
    if (context.auth_token && !net::request_authorized(request, *context.auth_token)) {
      connection->close();
      return;
    }
    // ComfyUI's greeting first (the session id is the client's own id when it gave one), then
    // the workers as they are now.
    const std::string client_id = request.query_param("clientId").value_or(std::string()).empty()
                                      ? make_uuid4_hex()
                                      : *request.query_param("clientId");
    context.hub.add(connection, client_id);
    json exec_info = json::object();
    exec_info["queue_remaining"] = context.scheduler ? context.scheduler->queue_remaining() : 0;
    json status = json::object();
    status["status"] = json::object({{"exec_info", exec_info}});
    status["sid"] = client_id;
    connection->send_text(to_text(json::object({{"type", "status"}, {"data", status}})));
    json data = json::object();
    data["workers"] = context.registry->workers_json();
    json message = json::object();
    message["type"] = "distributed_workers";
    message["data"] = data;
    connection->send_text(to_text(message));
  };
  handlers.on_text = [](const std::shared_ptr<net::websocket_connection>&, const std::string&) {};
  handlers.on_close = [&context](const std::shared_ptr<net::websocket_connection>& connection) {
    context.hub.remove(*connection);
  };
  server.add_websocket("/ws", handlers);
  server.add_websocket("/api/ws", handlers);
}

}  // namespace comfydist::master
