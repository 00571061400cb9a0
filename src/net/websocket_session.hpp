// Entry point of the WebSocket session role (internal to src/net; includes Beast).
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>

#include "net/server_context.hpp"

namespace comfydist::net {

// Completes the upgrade requested by `upgrade` on `stream` (already screened and routed to
// `handlers`), then runs the read loop and the outgoing queue until either side closes.
void start_websocket_session(boost::beast::tcp_stream stream,
                             boost::beast::http::request<boost::beast::http::string_body> upgrade,
                             http_request request, const websocket_handlers& handlers,
                             std::shared_ptr<server_context> ctx);
// The same over TLS (wss://).
void start_websocket_session(boost::beast::ssl_stream<boost::beast::tcp_stream> stream,
                             boost::beast::http::request<boost::beast::http::string_body> upgrade,
                             http_request request, const websocket_handlers& handlers,
                             std::shared_ptr<server_context> ctx);

}  // namespace comfydist::net
