// The CLI's connection to a running master: URL parsing, the auth token, JSON calls, and errors
// turned into sentences (including the master's per-field validation messages).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/json.hpp"
#include "net/async_http_client.hpp"

namespace comfydist::cli {

// A failed call, with a message ready to print (may span several lines).
class master_call_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct master_url {
  std::string scheme = "http";
  std::string host = "127.0.0.1";
  std::uint16_t port = 8188;
  std::string base_path;  // e.g. "/comfy" behind a reverse proxy; no trailing slash
};

// "http://host:port[/path]", "https://host", "host:port" or "host". Throws std::invalid_argument.
master_url parse_master_url(const std::string& text);

// The master's {"error": {"type", "message", "fields": [{field, message}]}} as text; the body as
// it is when it is not such a document.
std::string describe_master_error(int status, const std::string& body);

class master_client {
 public:
  master_client(const std::string& url, std::optional<std::string> token);
  // Sends the request and returns the parsed JSON answer of a 2xx response; throws
  // master_call_error otherwise.
  json call(const std::string& method, const std::string& target,
            const std::optional<json>& body = std::nullopt);
  std::string url() const;

 private:
  master_url url_;
  std::optional<std::string> token_;
  std::unique_ptr<net::async_http_client> client_;
};

}  // namespace comfydist::cli
