// The /ws endpoint: a client registers under its clientId, receives the queue status at once, and
// may announce its feature flags in its first message.
#include <spdlog/spdlog.h>

#include <memory>
#include <set>
#include <string>

#include "common/json_text.hpp"
#include "common/uuid.hpp"
#include "net/auth_token.hpp"
#include "worker/routes.hpp"

namespace comfydist::worker {
namespace {

// Connections that already sent their first message; only a first message may carry flags.
struct first_message_tracker {
  std::mutex mutex;
  std::set<std::uint64_t> seen;
  bool first(std::uint64_t id) {
    const std::lock_guard lock(mutex);
    return seen.insert(id).second;
  }
  void forget(std::uint64_t id) {
    const std::lock_guard lock(mutex);
    seen.erase(id);
  }
};

}  // namespace

void add_websocket_routes(net::http_server& server, worker_context& context) {
  auto tracker = std::make_shared<first_message_tracker>();
  net::websocket_handlers handlers;
  handlers.on_open = [&context](const net::http_request& request,
                                const std::shared_ptr<net::websocket_connection>& connection) {
    // The server offers no hook before the upgrade, so an unauthorised client is closed at once.
    if (context.options.auth_token &&
        !net::request_authorized(request, *context.options.auth_token)) {
      spdlog::info("event=ws_unauthorized connection={}", connection->id());
      connection->close();
      return;
    }
    std::string sid = request.query_param("clientId").value_or("");
    if (sid.empty() || sid.size() > 256) {
      sid = make_uuid4_hex();
    }
    context.hub.add(sid, connection);
    json exec_info = json::object();
    exec_info["queue_remaining"] = context.queue->remaining();
    json status = json::object();
    status["exec_info"] = exec_info;
    json data = json::object();
    data["status"] = status;
    data["sid"] = sid;
    context.hub.send_to(sid, "status", data);
    // A client reconnecting while its prompt runs learns which node is executing.
    if (const auto last = context.hub.last_executing(); last && last->first == sid) {
      json executing = json::object();
      executing["node"] = last->second;
      context.hub.send_to(sid, "executing", executing);
    }
  };
  handlers.on_text = [&context, tracker](
                         const std::shared_ptr<net::websocket_connection>& connection,
                         const std::string& text) {
    if (!tracker->first(connection->id())) {
      return;
    }
    json message;
    try {
      message = parse_json_body(text, 32);
    } catch (const std::exception&) {
      spdlog::debug("event=ws_bad_message connection={}", connection->id());
      return;
    }
    if (message.is_object() && message.value("type", "") == "feature_flags") {
      if (const auto sid = context.hub.sid_of(*connection)) {
        context.hub.send_to(*sid, "feature_flags", server_features(context));
      }
    }
  };
  handlers.on_close = [&context,
                       tracker](const std::shared_ptr<net::websocket_connection>& connection) {
    tracker->forget(connection->id());
    context.hub.remove(connection);
  };
  server.add_websocket("/ws", handlers);
  server.add_websocket("/api/ws", handlers);
}

}  // namespace comfydist::worker
