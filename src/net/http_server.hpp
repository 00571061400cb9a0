// HTTP/1.1 + WebSocket server on one Asio io_context: routing, body limits, deadlines,
// ComfyUI's CORS and origin-check middleware. Route code sees only http_types.hpp values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/http_types.hpp"
#include "net/websocket_connection.hpp"

namespace comfydist::net {

struct http_server_options {
  // Addresses to listen on, all on `port` (ComfyUI's --listen takes a comma-separated list).
  std::vector<std::string> addresses{"127.0.0.1"};
  std::uint16_t port = 8189;
  // Request bodies larger than this get 413 before the handler runs.
  std::size_t max_body_bytes = std::size_t{100} * 1024 * 1024;
  // Header block limit.
  std::size_t max_header_bytes = std::size_t{64} * 1024;
  // With a value: ComfyUI's CORS middleware with this Access-Control-Allow-Origin ("*" allowed).
  // Without: ComfyUI's origin-only check (cross-site and loopback Host/Origin mismatch → 403).
  std::optional<std::string> cors_origin;
  // Number of threads running the io_context.
  int io_threads = 2;
  // Seconds a connection may take to send a complete request, and to sit idle between requests.
  int request_timeout_seconds = 60;
  // Value of the Server header.
  std::string server_name = "comfydist";
  // PEM files (ComfyUI's --tls-certfile / --tls-keyfile). With both set, every listener speaks
  // only HTTPS and WSS; start() throws if they cannot be loaded or only one is set.
  std::string tls_certfile;
  std::string tls_keyfile;
};

struct websocket_handlers {
  // Called once the upgrade completed. The request carries the query (e.g. clientId).
  std::function<void(const http_request&, std::shared_ptr<websocket_connection>)> on_open;
  // A text message from the client. Binary messages are ignored.
  std::function<void(const std::shared_ptr<websocket_connection>&, const std::string&)> on_text;
  // The connection ended (either side). Not called if on_open was never called.
  std::function<void(const std::shared_ptr<websocket_connection>&)> on_close;
};

class http_server {
 public:
  explicit http_server(http_server_options options);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Register a route before start(). `pattern` is a path such as "/history/{prompt_id}"; a
  // `{name}` segment matches one non-empty path segment. Exact-segment patterns win over ones
  // with parameters. Unmatched paths get 404; a known path with another method gets 405.
  void add_route(const std::string& method, const std::string& pattern, http_handler handler);
  // A WebSocket endpoint; a plain GET on it (no upgrade) gets 400.
  void add_websocket(const std::string& pattern, websocket_handlers handlers);

  // Loads the TLS files if any, binds every address and starts the I/O threads. Throws
  // std::runtime_error naming the file, or the address and port when binding fails (e.g. the port
  // is taken).
  void start();
  // The port actually bound (useful with port 0).
  std::uint16_t bound_port() const;
  // Blocks until stop() is called (from any thread or a signal handler via request_stop()).
  void wait();
  // Stops accepting, closes connections and joins the I/O threads.
  void stop();

  // Runs `fn` on the I/O context (e.g. to deliver timers); safe from any thread.
  void post(std::function<void()> fn);

 private:
  friend void stop_on_signals(http_server& server);
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Installs SIGINT/SIGTERM handlers that call server.stop(); returns once they are installed.
void stop_on_signals(http_server& server);

}  // namespace comfydist::net
