// Raw calls from `comfydist run` to the master.
#include "cli/master_http.hpp"

#include <cctype>

namespace comfydist::cli {

master_http::master_http(const std::string& url, const std::optional<std::string>& token)
    : url_(parse_master_url(url)), token_(token), json_client_(url, token) {}

net::client_result master_http::fetch(const std::string& method, const std::string& target,
                                      std::string body, std::chrono::milliseconds timeout,
                                      std::size_t max_bytes, const std::string& content_type) {
  net::client_request request;
  request.method = method;
  request.scheme = url_.scheme;
  request.host = url_.host;
  request.port = url_.port;
  request.target = url_.base_path + target;
  request.timeout = timeout;
  request.max_response_bytes = max_bytes;
  if (!body.empty()) {
    request.body = std::move(body);
    request.headers["Content-Type"] = content_type;
  }
  if (token_) {
    request.headers["Authorization"] = "Bearer " + *token_;
  }
  return client_.fetch_sync(std::move(request));
}

std::string failure_reason(const net::client_result& result) {
  return result.ok ? describe_master_error(result.status, result.body) : result.error;
}

std::string percent_encode(const std::string& text) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

}  // namespace comfydist::cli
