// ComfyUI's request screening middleware: either CORS (preflight answered, headers on every reply)
// or the origin-only check against cross-site requests to a loopback server (internal to src/net).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_types.hpp"

namespace comfydist::net {

// True for a loopback IP literal (127.0.0.0/8, ::1) or "localhost".
bool is_loopback_host(std::string_view hostname);

// ComfyUI's Host/Origin comparison: true when the host is loopback and the Origin names another
// host (hostnames only are compared when either side lacks a port).
bool origin_mismatch(std::string_view host_header, std::string_view origin_header);

class origin_policy {
 public:
  explicit origin_policy(std::optional<std::string> cors_origin);

  // A reply that ends the request before routing (preflight 200, 403), or nothing.
  std::optional<http_response> screen(const http_request& request) const;

  // Headers that every response carries (the CORS headers; empty without CORS).
  const std::vector<std::pair<std::string, std::string>>& response_headers() const {
    return response_headers_;
  }

 private:
  bool cors_ = false;
  std::vector<std::pair<std::string, std::string>> response_headers_;
};

}  // namespace comfydist::net
