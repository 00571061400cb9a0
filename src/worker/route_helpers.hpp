// Small helpers for route code: ComfyUI's double registration (X and /api/X), the auth-token
// guard (--auth-token-file) and JSON replies.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/json.hpp"
#include "common/json_text.hpp"
#include "net/auth_token.hpp"
#include "net/http_server.hpp"

namespace comfydist::worker {

namespace detail {

// Kept per server rather than passed to every add_*_routes function, so that route files stay
// unaware of authentication; a process normally has a single server.
struct route_auth_registry {
  std::mutex mutex;
  std::map<const net::http_server*, std::string> tokens;
};

inline route_auth_registry& route_auth() {
  static route_auth_registry registry;
  return registry;
}

}  // namespace detail

// Makes every route added afterwards with add_api_route (and the /ws upgrade) require `token`.
inline void require_auth_token(const net::http_server& server, std::string token) {
  auto& registry = detail::route_auth();
  const std::lock_guard lock(registry.mutex);
  registry.tokens[&server] = std::move(token);
}

// Forgets the token of a server that is going away.
inline void forget_auth_token(const net::http_server& server) {
  auto& registry = detail::route_auth();
  const std::lock_guard lock(registry.mutex);
  registry.tokens.erase(&server);
}

inline std::optional<std::string> auth_token_of(const net::http_server& server) {
  auto& registry = detail::route_auth();
  const std::lock_guard lock(registry.mutex);
  const auto it = registry.tokens.find(&server);
  if (it == registry.tokens.end()) {
    return std::nullopt;
  }
  return it->second;
}

inline net::http_response json_reply(int status, const json& body) {
  return net::http_response::json(status, to_text(body));
}

inline net::http_response error_reply(int status, const std::string& type,
                                      const std::string& message) {
  json error = json::object();
  error["type"] = type;
  error["message"] = message;
  json body = json::object();
  body["error"] = error;
  return json_reply(status, body);
}

inline void add_api_route(net::http_server& server, const std::string& method,
                          const std::string& path, const net::http_handler& handler) {
  net::http_handler guarded = handler;
  if (auto token = auth_token_of(server)) {
    guarded = [token = std::move(*token), handler](net::http_request request,
                                                   net::http_responder reply) {
      if (!net::request_authorized(request, token)) {
        reply(
            error_reply(401, "unauthorized",
                        "this worker needs its auth token: send 'Authorization: Bearer <token>'"));
        return;
      }
      handler(std::move(request), std::move(reply));
    };
  }
  server.add_route(method, path, guarded);
  server.add_route(method, "/api" + path, guarded);
}

}  // namespace comfydist::worker
