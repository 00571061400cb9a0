// A blocking client for one ComfyUI server's stock API (a native worker or ComfyUI itself): what
// the master needs to run a unit there. Every call has a deadline; HTTP and HTTPS alike.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/json.hpp"
#include "net/async_http_client.hpp"

namespace comfydist::comfy {

struct comfy_endpoint {
  std::string scheme = "http";
  std::string host = "127.0.0.1";
  std::uint16_t port = 8188;
  std::string auth_token;  // sent as a Bearer token when not empty
};

// A call without a usable answer: no connection (status 0) or an error status.
class comfy_error : public std::runtime_error {
 public:
  comfy_error(const std::string& message, int status = 0, std::string body = {})
      : std::runtime_error(message), status_(status), body_(std::move(body)) {}
  int status() const { return status_; }
  const std::string& body() const { return body_; }

 private:
  int status_;
  std::string body_;
};

class comfy_client {
 public:
  comfy_client(net::async_http_client& http, comfy_endpoint endpoint,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const comfy_endpoint& endpoint() const { return endpoint_; }

  // POST /prompt; returns the server's prompt_id. A refused prompt throws comfy_error with
  // ComfyUI's error body.
  std::string queue_prompt(const json& prompt, const std::string& client_id);
  // GET /history/{id}: the prompt's entry, or nothing while it has none.
  std::optional<json> history_entry(const std::string& prompt_id);
  // GET /view; a file over `max_bytes` is an error.
  std::string view(const std::string& filename, const std::string& subfolder,
                   const std::string& type, std::size_t max_bytes);
  // POST /upload/image into input/ (multipart); returns the name the server stored it under.
  std::string upload_image(const std::string& bytes, const std::string& filename);
  json object_info();
  // GET /object_info/{class}: {class: info}, or {} when the server lacks it.
  json object_info(const std::string& class_name);
  // POST /queue {"delete": [id]} then POST /interrupt {"prompt_id"}: stops the prompt whether it
  // waits or runs.
  void cancel(const std::string& prompt_id);

 private:
  net::client_result send(const std::string& method, const std::string& target, std::string body,
                          const std::string& content_type,
                          std::size_t max_bytes = std::size_t{64} << 20);
  json send_json(const std::string& method, const std::string& target, const json* body);

  net::async_http_client& http_;
  comfy_endpoint endpoint_;
  std::chrono::milliseconds timeout_;
};

// "a b/c" → "a%20b%2Fc": a query value.
std::string query_escape(const std::string& text);

}  // namespace comfydist::comfy
