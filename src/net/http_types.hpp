// Plain request/response values that cross the boundary between the network layer and the code
// that handles routes; no Asio or Beast types appear here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace comfydist::net {

struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target, e.g. "/api/view?filename=a.png"
  std::string path;    // percent-decoded path without the query, e.g. "/api/view"
  // Percent-decoded query parameters; a repeated key keeps its first value (as aiohttp's
  // request.rel_url.query[key] does).
  std::map<std::string, std::string> query;
  // Header names are lowercase.
  std::map<std::string, std::string> headers;
  std::string body;
  std::string remote_address;
  // Values of `{name}` segments of the matched route pattern.
  std::map<std::string, std::string> path_params;

  std::optional<std::string> header(const std::string& lowercase_name) const {
    const auto it = headers.find(lowercase_name);
    if (it == headers.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  std::optional<std::string> query_param(const std::string& name) const {
    const auto it = query.find(name);
    if (it == query.end()) {
      return std::nullopt;
    }
    return it->second;
  }
};

struct http_response {
  int status = 200;
  // Header names as they should be sent; Content-Length is added by the server.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is streamed from this file instead (Content-Length from its size).
  std::optional<std::filesystem::path> file;

  static http_response json(int status, std::string body) {
    http_response r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    r.body = std::move(body);
    return r;
  }
  static http_response empty(int status = 200) {
    http_response r;
    r.status = status;
    return r;
  }
};

// Completes a request. May be called from any thread, exactly once.
using http_responder = std::function<void(http_response)>;

// Handles one request. Runs on an I/O thread: quick work may reply at once; CPU-heavy work must
// be handed to another thread, which calls the responder when done.
using http_handler = std::function<void(http_request, http_responder)>;

}  // namespace comfydist::net
