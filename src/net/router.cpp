// Route table: pattern compilation and matching with {param} segments, 404 versus 405.
#include "net/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "net/url_codec.hpp"

namespace comfydist::net {

std::vector<router::segment> router::compile(const std::string& pattern) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern '" + pattern + "' must start with '/'");
  }
  std::vector<segment> out;
  std::string_view rest(pattern);
  rest.remove_prefix(1);
  for (;;) {
    const auto slash = rest.find('/');
    const auto text = rest.substr(0, slash);
    if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
      out.push_back(segment{std::string(text.substr(1, text.size() - 2)), true});
    } else {
      out.push_back(segment{std::string(text), false});
    }
    if (slash == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  return out;
}

bool router::matches(const std::vector<segment>& pattern, const std::vector<std::string>& path,
                     std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) {
    return false;
  }
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i].is_param) {
      if (path[i].empty()) {
        return false;
      }
    } else if (pattern[i].text != path[i]) {
      return false;
    }
  }
  if (params != nullptr) {
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      if (pattern[i].is_param) {
        (*params)[pattern[i].text] = path[i];
      }
    }
  }
  return true;
}

bool router::more_literal(const std::vector<segment>& a, const std::vector<segment>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i].is_param != b[i].is_param) {
      return !a[i].is_param;
    }
  }
  return false;
}

void router::add(const std::string& method, const std::string& pattern, http_handler handler) {
  routes_.push_back(http_route{method, compile(pattern), std::move(handler)});
}

void router::add_websocket(const std::string& pattern, websocket_handlers handlers) {
  websockets_.push_back(websocket_route{compile(pattern), std::move(handlers)});
}

router::match_result router::match(std::string_view method, std::string_view raw_path) const {
  const auto path = split_path(raw_path);
  match_result result;

  for (const auto& ws : websockets_) {
    if (matches(ws.segments, path, &result.params)) {
      result.kind = outcome::websocket;
      result.websocket = &ws.handlers;
      return result;
    }
  }

  const auto find_best = [&](std::string_view wanted) -> const http_route* {
    const http_route* best = nullptr;
    for (const auto& route : routes_) {
      if (route.method != wanted || !matches(route.segments, path, nullptr)) {
        continue;
      }
      if (best == nullptr || more_literal(route.segments, best->segments)) {
        best = &route;
      }
    }
    return best;
  };

  const http_route* best = find_best(method);
  if (best == nullptr && method == "HEAD") {
    best = find_best("GET");
  }
  if (best != nullptr) {
    matches(best->segments, path, &result.params);
    result.kind = outcome::handler;
    result.handler = &best->handler;
    return result;
  }

  for (const auto& route : routes_) {
    if (matches(route.segments, path, nullptr) &&
        std::find(result.allowed.begin(), result.allowed.end(), route.method) ==
            result.allowed.end()) {
      result.allowed.push_back(route.method);
    }
  }
  result.kind = result.allowed.empty() ? outcome::not_found : outcome::method_not_allowed;
  return result;
}

}  // namespace comfydist::net
