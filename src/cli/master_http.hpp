// Raw HTTP calls from `comfydist run` to the master. Unlike master_client, the caller sees
// whether anything answered at all (exit 3), the body of a 400 (ComfyUI's node errors) and
// bodies that are not JSON (the images from /view).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "cli/master_client.hpp"
#include "net/async_http_client.hpp"

namespace comfydist::cli {

class master_http {
 public:
  // Throws std::invalid_argument for a malformed URL.
  master_http(const std::string& url, const std::optional<std::string>& token);

  // A non-empty body is sent as `content_type` (JSON unless told otherwise).
  net::client_result fetch(const std::string& method, const std::string& target, std::string body,
                           std::chrono::milliseconds timeout,
                           std::size_t max_bytes = std::size_t{64} << 20,
                           const std::string& content_type = "application/json");
  std::string url() const { return json_client_.url(); }
  // For calls whose errors need no special handling.
  master_client& json_calls() { return json_client_; }

 private:
  master_url url_;
  std::optional<std::string> token_;
  master_client json_client_;
  net::async_http_client client_;
};

inline bool is_success(const net::client_result& result) {
  return result.ok && result.status >= 200 && result.status < 300;
}

// Why a call failed, in a sentence: the transport's reason or the master's error.
std::string failure_reason(const net::client_result& result);

// For query strings: everything but A-Z a-z 0-9 - . _ ~ as %XX.
std::string percent_encode(const std::string& text);

}  // namespace comfydist::cli
