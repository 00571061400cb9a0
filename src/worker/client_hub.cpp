// Routing of execution events to WebSocket clients.
#include "worker/client_hub.hpp"

#include <vector>

#include "common/json_text.hpp"

namespace comfydist::worker {
namespace {

std::string message_text(const std::string& type, const json& data) {
  json message = json::object();
  message["type"] = type;
  message["data"] = data;
  return to_text(message);
}

}  // namespace

void client_hub::add(const std::string& sid,
                     const std::shared_ptr<net::websocket_connection>& connection) {
  const std::lock_guard lock(mutex_);
  sockets_[sid] = connection;
  sids_[connection->id()] = sid;
}

void client_hub::remove(const std::shared_ptr<net::websocket_connection>& connection) {
  const std::lock_guard lock(mutex_);
  const auto sid = sids_.find(connection->id());
  if (sid == sids_.end()) {
    return;
  }
  const auto socket = sockets_.find(sid->second);
  if (socket != sockets_.end()) {
    const auto current = socket->second.lock();
    if (!current || current->id() == connection->id()) {
      sockets_.erase(socket);
    }
  }
  sids_.erase(sid);
}

std::optional<std::string> client_hub::sid_of(const net::websocket_connection& connection) const {
  const std::lock_guard lock(mutex_);
  const auto it = sids_.find(connection.id());
  if (it == sids_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void client_hub::send_to(const std::string& sid, const std::string& type, const json& data) {
  std::shared_ptr<net::websocket_connection> target;
  {
    const std::lock_guard lock(mutex_);
    const auto it = sockets_.find(sid);
    if (it != sockets_.end()) {
      target = it->second.lock();
    }
  }
  if (target) {
    target->send_text(message_text(type, data));
  }
}

void client_hub::broadcast(const std::string& type, const json& data) {
  std::vector<std::shared_ptr<net::websocket_connection>> targets;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [sid, weak] : sockets_) {
      if (auto connection = weak.lock()) {
        targets.push_back(std::move(connection));
      }
    }
  }
  if (targets.empty()) {
    return;
  }
  const std::string text = message_text(type, data);
  for (const auto& connection : targets) {
    connection->send_text(text);
  }
}

void client_hub::on_event(const std::string& type, const json& data,
                          const std::optional<std::string>& client_id,
                          bool broadcast_if_no_client) {
  if (type == "executing") {
    const std::lock_guard lock(mutex_);
    if (client_id && data.contains("node") && data["node"].is_string()) {
      last_executing_ = std::make_pair(*client_id, data["node"].get<std::string>());
    } else {
      last_executing_.reset();
    }
  }
  if (client_id) {
    send_to(*client_id, type, data);
  } else if (broadcast_if_no_client) {
    broadcast(type, data);
  }
}

std::optional<std::pair<std::string, std::string>> client_hub::last_executing() const {
  const std::lock_guard lock(mutex_);
  return last_executing_;
}

}  // namespace comfydist::worker
