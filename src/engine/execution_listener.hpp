// Where the executor sends its events (ComfyUI's send_sync): the worker forwards them to
// WebSocket clients, the master to its own bookkeeping. No network code here.
#pragma once

#include <optional>
#include <string>

#include "common/json.hpp"

namespace comfydist::engine {

class execution_listener {
 public:
  virtual ~execution_listener() = default;
  // `client_id` empty: the prompt had no client. `broadcast_if_no_client`: send to every socket
  // in that case (progress, progress_state, execution_interrupted, status); otherwise drop it.
  virtual void on_event(const std::string& type, const json& data,
                        const std::optional<std::string>& client_id,
                        bool broadcast_if_no_client) = 0;
};

}  // namespace comfydist::engine
