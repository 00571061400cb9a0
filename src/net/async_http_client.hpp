// Asynchronous HTTP/1.1 (and HTTPS) client for the master's probes and calls to workers: many
// requests in flight on the client's own I/O thread(s), each under one deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace comfydist::net {

struct client_request {
  std::string method = "GET";
  std::string scheme = "http";  // "http" or "https"
  std::string host;             // a name or an IP address (IPv6 without brackets)
  std::uint16_t port = 80;
  std::string target = "/";
  std::map<std::string, std::string> headers;
  std::string body;
  // Covers everything: resolving, connecting, the TLS handshake, writing and reading.
  std::chrono::milliseconds timeout{3000};
  std::size_t max_response_bytes = std::size_t{64} << 20;
};

struct client_result {
  // True for any complete HTTP response, whatever its status: callers interpret statuses.
  bool ok = false;
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  // When !ok: "dns", "refused", "unreachable", "timeout", "tls", "http" (malformed response),
  // "too_large", "closed" (the peer closed before a complete response), "cancelled" (stop()).
  std::string error_kind;
  // When !ok: a sentence for a system administrator, e.g. "connection refused by
  // 10.0.0.7:8189" or "TLS: certificate verify failed (self-signed certificate)".
  std::string error;
};

struct async_http_client_options {
  int threads = 1;
  // A PEM bundle trusted in addition to the system CAs (self-hosted clouds).
  std::string extra_ca_file;
};

class async_http_client {
 public:
  // Starts the I/O thread(s). Throws std::runtime_error if extra_ca_file cannot be loaded.
  explicit async_http_client(const async_http_client_options& options = {});
  // Calls stop().
  ~async_http_client();
  async_http_client(const async_http_client&) = delete;
  async_http_client& operator=(const async_http_client&) = delete;

  // Starts one request on a fresh connection (Connection: close) and returns at once. `done` runs
  // exactly once on a client thread and must not block it for long; after stop() it runs at once
  // on the caller's thread with error_kind "cancelled".
  void fetch(client_request request, std::function<void(client_result)> done);
  // Blocks until the request completes. Must not be called from `done` (a client thread).
  client_result fetch_sync(client_request request);
  // Completes every request in flight with "cancelled" and joins the I/O threads. Idempotent;
  // must not be called from a client thread.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace comfydist::net
