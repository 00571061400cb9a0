// HTTP calls from the CLI to the master.
#include "cli/master_client.hpp"

namespace comfydist::cli {

master_url parse_master_url(const std::string& text) {
  master_url out;
  std::string rest = text;
  bool explicit_port = false;
  if (const auto scheme = rest.find("://"); scheme != std::string::npos) {
    out.scheme = rest.substr(0, scheme);
    if (out.scheme != "http" && out.scheme != "https") {
      throw std::invalid_argument("'" + text + "': the master's URL must start with http:// or " +
                                  "https://");
    }
    rest = rest.substr(scheme + 3);
  }
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    out.base_path = rest.substr(slash);
    while (!out.base_path.empty() && out.base_path.back() == '/') {
      out.base_path.pop_back();
    }
    rest = rest.substr(0, slash);
  }
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) {
      throw std::invalid_argument("'" + text + "': unclosed '[' in the address");
    }
    if (close + 1 < rest.size() && rest[close + 1] == ':') {
      port_text = rest.substr(close + 2);
      explicit_port = true;
    }
    rest = rest.substr(1, close - 1);
  } else if (const auto colon = rest.rfind(':');
             colon != std::string::npos && rest.find(':') == colon) {
    port_text = rest.substr(colon + 1);
    explicit_port = true;
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) {
    throw std::invalid_argument("'" + text + "': no host in the master's URL");
  }
  out.host = rest;
  if (explicit_port) {
    int port = 0;
    try {
      std::size_t used = 0;
      port = std::stoi(port_text, &used);
      if (used != port_text.size()) {
        port = 0;
      }
    } catch (const std::exception&) {
      port = 0;
    }
    if (port < 1 || port > 65535) {
      throw std::invalid_argument("'" + text + "': the port must be between 1 and 65535");
    }
    out.port = static_cast<std::uint16_t>(port);
  } else {
    out.port = out.scheme == "https" ? 443 : 80;
  }
  return out;
}

std::string describe_master_error(int status, const std::string& body) {
  std::string out = "the master answered HTTP " + std::to_string(status);
  json document;
  try {
    document = json::parse(body);
  } catch (const std::exception&) {
    return body.empty() ? out : out + ": " + body.substr(0, 500);
  }
  if (!document.is_object() || !document.contains("error") || !document["error"].is_object()) {
    return out + ": " + body.substr(0, 500);
  }
  const json& error = document["error"];
  const json fields = error.value("fields", json::array());
  if (fields.is_array() && !fields.empty()) {
    // The summary repeats the fields; list them one per line instead.
    out += ": invalid worker settings";
    for (const auto& field : fields) {
      if (field.is_object()) {
        out += "\n  " + field.value("field", std::string("?")) + ": " +
               field.value("message", std::string());
      }
    }
    return out;
  }
  out += ": " + error.value("message", std::string("(no message)"));
  if (status == 401) {
    out += "\n  give the master's token with --token-file FILE";
  }
  return out;
}

master_client::master_client(const std::string& url, std::optional<std::string> token)
    : url_(parse_master_url(url)),
      token_(std::move(token)),
      client_(std::make_unique<net::async_http_client>()) {}

std::string master_client::url() const {
  const bool ipv6 = url_.host.find(':') != std::string::npos;
  return url_.scheme + "://" + (ipv6 ? "[" + url_.host + "]" : url_.host) + ":" +
         std::to_string(url_.port) + url_.base_path;
}

json master_client::call(const std::string& method, const std::string& target,
                         const std::optional<json>& body) {
  net::client_request request;
  request.method = method;
  request.scheme = url_.scheme;
  request.host = url_.host;
  request.port = url_.port;
  request.target = url_.base_path + target;
  request.timeout = std::chrono::seconds(30);
  if (body) {
    request.body = body->dump();
    request.headers["Content-Type"] = "application/json";
  }
  if (token_) {
    request.headers["Authorization"] = "Bearer " + *token_;
  }
  const net::client_result result = client_->fetch_sync(request);
  if (!result.ok) {
    throw master_call_error("cannot reach the master at " + url() + ": " + result.error +
                            "\n  is `comfydist serve` running there? (--master URL)");
  }
  if (result.status < 200 || result.status >= 300) {
    throw master_call_error(describe_master_error(result.status, result.body));
  }
  try {
    return result.body.empty() ? json::object() : json::parse(result.body);
  } catch (const std::exception&) {
    throw master_call_error("the master at " + url() +
                            " did not answer with JSON: " + result.body.substr(0, 200));
  }
}

}  // namespace comfydist::cli
