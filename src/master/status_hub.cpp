// Routing messages to the master's WebSocket clients.
#include "master/status_hub.hpp"

#include "common/json_text.hpp"

namespace comfydist::master {

void status_hub::add(const std::shared_ptr<net::websocket_connection>& connection,
                     const std::string& client_id) {
  const std::lock_guard lock(mutex_);
  connections_.push_back(entry{connection, client_id});
}

void status_hub::remove(const net::websocket_connection& connection) {
  const std::lock_guard lock(mutex_);
  std::erase_if(connections_, [&](const entry& e) {
    const auto c = e.connection.lock();
    return !c || c->id() == connection.id();
  });
}

void status_hub::broadcast(const std::string& type, const json& data) {
  send({}, type, data);
}

void status_hub::send(const std::string& client_id, const std::string& type, const json& data) {
  std::vector<std::shared_ptr<net::websocket_connection>> targets;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& e : connections_) {
      if (!client_id.empty() && e.client_id != client_id) {
        continue;
      }
      if (auto c = e.connection.lock()) {
        targets.push_back(std::move(c));
      }
    }
  }
  if (targets.empty()) {
    return;
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
