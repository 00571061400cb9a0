// The stock ComfyUI calls the master makes, over the asynchronous HTTP(S) client used blocking.
#include "comfy/comfy_client.hpp"

#include <random>

#include "common/json_text.hpp"

namespace comfydist::comfy {

std::string query_escape(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if ((std::isalnum(c) != 0) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

comfy_client::comfy_client(net::async_http_client& http, comfy_endpoint endpoint,
                           std::chrono::milliseconds timeout)
    : http_(http), endpoint_(std::move(endpoint)), timeout_(timeout) {}

net::client_result comfy_client::send(const std::string& method, const std::string& target,
                                      std::string body, const std::string& content_type,
                                      std::size_t max_bytes) {
  net::client_request request;
  request.method = method;
  request.scheme = endpoint_.scheme;
  request.host = endpoint_.host;
  request.port = endpoint_.port;
  request.target = target;
  request.body = std::move(body);
  if (!content_type.empty()) {
    request.headers["Content-Type"] = content_type;
  }
  if (!endpoint_.auth_token.empty()) {
    request.headers["Authorization"] = "Bearer " + endpoint_.auth_token;
  }
  request.timeout = timeout_;
  request.max_response_bytes = max_bytes;
  net::client_result result = http_.fetch_sync(std::move(request));
  if (!result.ok) {
    throw comfy_error(method + " " + target + ": " + result.error);
  }
  return result;
}

json comfy_client::send_json(const std::string& method, const std::string& target,
                             const json* body) {
  const net::client_result result =
      send(method, target, body != nullptr ? to_text(*body) : std::string(),
           body != nullptr ? "application/json" : "");
  if (result.status != 200) {
    throw comfy_error(method + " " + target + " answered HTTP " + std::to_string(result.status),
                      result.status, result.body);
  }
  if (result.body.empty()) {
    return nullptr;  // POST /queue and /interrupt answer 200 without a body
  }
  try {
    return json::parse(result.body);
  } catch (const json::parse_error&) {
    throw comfy_error(method + " " + target + " answered something that is not JSON", result.status,
                      result.body);
  }
}

std::string comfy_client::queue_prompt(const json& prompt, const std::string& client_id) {
  json body = json::object();
  body["prompt"] = prompt;
  body["client_id"] = client_id;
  const json answer = send_json("POST", "/prompt", &body);
  if (!answer.is_object() || !answer.contains("prompt_id") || !answer["prompt_id"].is_string()) {
    throw comfy_error("POST /prompt answered without a prompt_id", 200, answer.dump());
  }
  return answer["prompt_id"].get<std::string>();
}

std::optional<json> comfy_client::history_entry(const std::string& prompt_id) {
  const json answer = send_json("GET", "/history/" + query_escape(prompt_id), nullptr);
  if (!answer.is_object() || !answer.contains(prompt_id)) {
    return std::nullopt;
  }
  return answer[prompt_id];
}

std::string comfy_client::view(const std::string& filename, const std::string& subfolder,
                               const std::string& type, std::size_t max_bytes) {
  const std::string target = "/view?filename=" + query_escape(filename) +
                             "&subfolder=" + query_escape(subfolder) +
                             "&type=" + query_escape(type);
  net::client_result result = send("GET", target, {}, {}, max_bytes);
  if (result.status != 200) {
    throw comfy_error("GET " + target + " answered HTTP " + std::to_string(result.status),
                      result.status, result.body);
  }
  return std::move(result.body);
}

std::string comfy_client::upload_image(const std::string& bytes, const std::string& filename) {
  std::mt19937_64 random(std::random_device{}());
  const std::string boundary = "comfydist" + std::to_string(random());
  std::string body;
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" +
          filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
  body += bytes;
  body += "\r\n--" + boundary +
          "\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\ntrue\r\n--" + boundary +
          "--\r\n";
  const net::client_result result =
      send("POST", "/upload/image", std::move(body), "multipart/form-data; boundary=" + boundary);
  if (result.status != 200) {
    throw comfy_error("POST /upload/image answered HTTP " + std::to_string(result.status),
                      result.status, result.body);
  }
  try {
    const json answer = json::parse(result.body);
    return answer.at("name").get<std::string>();
  } catch (const json::exception&) {
    throw comfy_error("POST /upload/image answered without a file name", result.status,
                      result.body);
  }
}

json comfy_client::object_info() {
  return send_json("GET", "/object_info", nullptr);
}

json comfy_client::object_info(const std::string& class_name) {
  return send_json("GET", "/object_info/" + query_escape(class_name), nullptr);
}

void comfy_client::cancel(const std::string& prompt_id) {
  // Out of the queue first: interrupting another prompt could start this one in between.
  json remove = json::object();
  remove["delete"] = json::array({prompt_id});
  send_json("POST", "/queue", &remove);
  json interrupt = json::object();
  interrupt["prompt_id"] = prompt_id;
  send_json("POST", "/interrupt", &interrupt);
}

}  // namespace comfydist::comfy
