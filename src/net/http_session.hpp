// Entry point of the HTTP session role (internal to src/net; includes Asio).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "net/server_context.hpp"

namespace comfydist::net {

// Serves HTTP/1.1 requests on `socket` (whose executor is the connection's strand) until the peer
// closes, a deadline passes, the server stops, or the connection upgrades to a WebSocket.
void start_http_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<server_context> ctx);

}  // namespace comfydist::net
