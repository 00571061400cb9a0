// Listener role: one bound address, accepting connections and giving each its own strand
// (internal to src/net).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "net/server_context.hpp"

namespace boost::asio {
class io_context;
}

namespace comfydist::net {

class listener {
 public:
  virtual ~listener() = default;

  // Binds and listens on address:port. Throws std::runtime_error("cannot listen on ADDR:PORT:
  // ...").
  static std::shared_ptr<listener> open(boost::asio::io_context& ioc, const std::string& address,
                                        std::uint16_t port, std::shared_ptr<server_context> ctx);

  virtual std::uint16_t port() const = 0;
  // Starts the accept loop on the io_context.
  virtual void start() = 0;
  // Stops accepting; safe from any thread.
  virtual void close() = 0;
};

}  // namespace comfydist::net
