// ComfyUI's CORS middleware and origin-only middleware (server.py), reproduced rule by rule.
#include "net/origin_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace comfydist::net {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// urllib.parse's view of a netloc: hostname (lowercase, no brackets) and port, each optional.
struct host_info {
  std::optional<std::string> hostname;
  std::optional<std::string> port;
};

host_info split_netloc(std::string_view netloc) {
  const auto at = netloc.rfind('@');
  std::string_view hostinfo = at == std::string_view::npos ? netloc : netloc.substr(at + 1);
  std::string_view hostname;
  std::string_view port;
  const auto open = hostinfo.find('[');
  if (open != std::string_view::npos) {
    const auto bracketed = hostinfo.substr(open + 1);
    const auto close = bracketed.find(']');
    hostname = bracketed.substr(0, close);
    if (close != std::string_view::npos) {
      const auto after = bracketed.substr(close + 1);
      const auto colon = after.find(':');
      port = colon == std::string_view::npos ? std::string_view{} : after.substr(colon + 1);
    }
  } else {
    const auto colon = hostinfo.find(':');
    hostname = hostinfo.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view{} : hostinfo.substr(colon + 1);
  }
  host_info info;
  if (!hostname.empty()) {
    info.hostname = lower(hostname);
  }
  if (!port.empty()) {
    info.port = std::string(port);
  }
  return info;
}

// urllib.parse.urlparse(url).netloc
std::string_view url_netloc(std::string_view url) {
  const auto colon = url.find(':');
  if (colon != std::string_view::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(url[0]))) {
    const bool scheme_chars =
        std::all_of(url.begin(), url.begin() + static_cast<long>(colon), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        });
    if (scheme_chars) {
      url.remove_prefix(colon + 1);
    }
  }
  if (url.substr(0, 2) != "//") {
    return {};
  }
  url.remove_prefix(2);
  return url.substr(0, url.find_first_of("/?#"));
}

}  // namespace

bool is_loopback_host(std::string_view hostname) {
  const std::string name(hostname);
  if (name == "localhost") {
    return true;
  }
  in_addr v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, name.c_str(), &v6) == 1) {
    return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  }
  return false;
}

bool origin_mismatch(std::string_view host_header, std::string_view origin_header) {
  std::optional<std::string> host_domain = lower(host_header);
  const host_info host = split_netloc(*host_domain);
  const std::string_view netloc = url_netloc(origin_header);
  std::optional<std::string> origin_domain = lower(netloc);
  const host_info origin = split_netloc(netloc);

  const bool loopback = host.hostname && is_loopback_host(*host.hostname);
  // "if origin doesn't have a port strip it from the host to handle weird browsers, same for host"
  if (!origin.port) {
    host_domain = host.hostname;
  }
  if (!host.port) {
    origin_domain = origin.hostname;
  }
  return loopback && host_domain && origin_domain && !host_domain->empty() &&
         !origin_domain->empty() && *host_domain != *origin_domain;
}

origin_policy::origin_policy(std::optional<std::string> cors_origin) {
  if (cors_origin) {
    cors_ = true;
    response_headers_ = {
        {"Access-Control-Allow-Origin", *cors_origin},
        {"Access-Control-Allow-Methods", "POST, GET, DELETE, PUT, OPTIONS, PATCH"},
        {"Access-Control-Allow-Headers", "Content-Type, Authorization"},
        {"Access-Control-Allow-Credentials", "true"},
    };
  }
}

std::optional<http_response> origin_policy::screen(const http_request& request) const {
  if (!cors_) {
    if (request.header("sec-fetch-site") == "cross-site") {
      spdlog::warn("origin_check rejected=cross_site path={} remote={}", request.path,
                   request.remote_address);
      return http_response::empty(403);
    }
    const auto host = request.header("host");
    const auto origin = request.header("origin");
    if (host && origin && origin_mismatch(*host, *origin)) {
      spdlog::warn("origin_check rejected=origin_mismatch host={} origin={} path={} remote={}",
                   *host, *origin, request.path, request.remote_address);
      return http_response::empty(403);
    }
  }
  if (request.method == "OPTIONS") {
    return http_response::empty(200);
  }
  return std::nullopt;
}

}  // namespace comfydist::net
