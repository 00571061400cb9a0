// The worker's WebSocket clients by sid (ComfyUI's self.sockets) and the executor's event sink:
// events go to the prompt's client, or to everybody when ComfyUI broadcasts them.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/json.hpp"
#include "engine/execution_listener.hpp"
#include "net/websocket_connection.hpp"

namespace comfydist::worker {

class client_hub : public engine::execution_listener {
 public:
  // Registers a socket under `sid`, replacing any earlier socket with that sid.
  void add(const std::string& sid, const std::shared_ptr<net::websocket_connection>& connection);
  // Forgets the socket if it is still the one registered under its sid.
  void remove(const std::shared_ptr<net::websocket_connection>& connection);
  std::optional<std::string> sid_of(const net::websocket_connection& connection) const;

  void send_to(const std::string& sid, const std::string& type, const json& data);
  void broadcast(const std::string& type, const json& data);

  void on_event(const std::string& type, const json& data,
                const std::optional<std::string>& client_id, bool broadcast_if_no_client) override;

  // For the reconnect message: the node the running prompt's client last saw start.
  std::optional<std::pair<std::string, std::string>> last_executing() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::weak_ptr<net::websocket_connection>> sockets_;
  std::map<std::uint64_t, std::string> sids_;                          // connection id → sid
  std::optional<std::pair<std::string, std::string>> last_executing_;  // (client, node)
};

}  // namespace comfydist::worker
