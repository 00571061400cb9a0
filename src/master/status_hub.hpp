// The master's WebSocket clients, each with its ComfyUI client id: worker status and job/unit
// messages go to everyone (the panel never polls workers); a job's ComfyUI events go to the client
// that queued it, as ComfyUI routes them.
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
  void add(const std::shared_ptr<net::websocket_connection>& connection,
           const std::string& client_id = {});
  void remove(const net::websocket_connection& connection);
  void broadcast(const std::string& type, const json& data);
  // To the sockets of `client_id`; with an empty id, to every socket.
  void send(const std::string& client_id, const std::string& type, const json& data);

 private:
  struct entry {
    std::weak_ptr<net::websocket_connection> connection;
    std::string client_id;
  };
  std::mutex mutex_;
  std::vector<entry> connections_;
};

}  // namespace comfydist::master
