// Broadcast to the master's WebSocket clients.
#include "master/status_hub.hpp"

#include "common/json_text.hpp"

namespace comfydist::master {

void status_hub::add(const std::shared_ptr<net::websocket_connection>& connection) {
  const std::lock_guard lock(mutex_);
  connections_.push_back(connection);
}

void status_hub::remove(const net::websocket_connection& connection) {
  const std::lock_guard lock(mutex_);
  std::erase_if(connections_, [&](const std::weak_ptr<net::websocket_connection>& weak) {
    const auto c = weak.lock();
    return !c || c->id() == connection.id();
  });
}

void status_hub::broadcast(const std::string& type, const json& data) {
  std::vector<std::shared_ptr<net::websocket_connection>> targets;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& weak : connections_) {
      if (auto c = weak.lock()) {
        targets.push_back(std::move(c));
      }
    }
  }
  json message = json::object();
  message["type"] = type;
  message["data"] = data;
  const std::string text = to_text(message);
  for (const auto& c : targets) {
    c->send_text(text);
  }
}

}  // namespace comfydist::master
