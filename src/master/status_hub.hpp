// The master's WebSocket clients: every message is broadcast (worker status changes), so the panel
// never polls workers.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "net/websocket_connection.hpp"

namespace comfydist::master {

class status_hub {
 public:
  void add(const std::shared_ptr<net::websocket_connection>& connection);
  void remove(const net::websocket_connection& connection);
  void broadcast(const std::string& type, const json& data);

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<net::websocket_connection>> connections_;
};

}  // namespace comfydist::master
