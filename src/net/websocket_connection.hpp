// One accepted WebSocket, as seen by route code: thread-safe sends, no Asio types.
#pragma once

#include <cstdint>
#include <string>

namespace comfydist::net {

class websocket_connection {
 public:
  virtual ~websocket_connection() = default;

  // Queue a text or binary message. Safe from any thread; messages go out in call order with at
  // most one write in flight. If the connection's outgoing queue is over its cap, the connection is
  // closed (a client that does not read must not grow memory without bound).
  virtual void send_text(std::string message) = 0;
  virtual void send_binary(std::string bytes) = 0;
  virtual void close() = 0;
  // A number unique within the process, for logs and maps.
  virtual std::uint64_t id() const = 0;
};

}  // namespace comfydist::net
