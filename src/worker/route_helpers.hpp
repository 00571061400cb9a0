// Small helpers for route code: ComfyUI's double registration (X and /api/X) and JSON replies.
#pragma once

#include <string>

#include "common/json.hpp"
#include "common/json_text.hpp"
#include "net/http_server.hpp"

namespace comfydist::worker {

inline void add_api_route(net::http_server& server, const std::string& method,
                          const std::string& path, const net::http_handler& handler) {
  server.add_route(method, path, handler);
  server.add_route(method, "/api" + path, handler);
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

}  // namespace comfydist::worker
