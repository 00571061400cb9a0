// Route table: method + path pattern ("/history/{prompt_id}") to handler, and WebSocket endpoints
// (internal to src/net).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_server.hpp"
#include "net/http_types.hpp"

namespace comfydist::net {

class router {
 public:
  enum class outcome { handler, websocket, method_not_allowed, not_found };

  struct match_result {
    outcome kind = outcome::not_found;
    const http_handler* handler = nullptr;
    const websocket_handlers* websocket = nullptr;
    std::map<std::string, std::string> params;
    // For method_not_allowed: the methods the path accepts, for the Allow header.
    std::vector<std::string> allowed;
  };

  void add(const std::string& method, const std::string& pattern, http_handler handler);
  void add_websocket(const std::string& pattern, websocket_handlers handlers);

  // A WebSocket pattern wins over HTTP routes on the same path; among HTTP routes the most literal
  // pattern wins (segment by segment, a literal beats a parameter). HEAD falls back to GET.
  match_result match(std::string_view method, std::string_view raw_path) const;

 private:
  struct segment {
    std::string text;
    bool is_param = false;
  };
  struct http_route {
    std::string method;
    std::vector<segment> segments;
    http_handler handler;
  };
  struct websocket_route {
    std::vector<segment> segments;
    websocket_handlers handlers;
  };

  static std::vector<segment> compile(const std::string& pattern);
  static bool matches(const std::vector<segment>& pattern, const std::vector<std::string>& path,
                      std::map<std::string, std::string>* params);
  static bool more_literal(const std::vector<segment>& a, const std::vector<segment>& b);

  std::vector<http_route> routes_;
  std::vector<websocket_route> websockets_;
};

}  // namespace comfydist::net
