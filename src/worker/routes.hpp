// Registration of the native worker's ComfyUI routes, grouped by concern.
#pragma once

#include "common/json.hpp"
#include "net/http_server.hpp"
#include "worker/worker_context.hpp"

namespace comfydist::worker {

// POST/GET /prompt, /queue, /history, /interrupt, /free.
void add_prompt_routes(net::http_server& server, worker_context& context);
// /object_info, /system_stats, /features, /models, /embeddings, /extensions, /.
void add_info_routes(net::http_server& server, worker_context& context);
// The server feature flags (GET /features, and the reply to a client's feature_flags).
json server_features(const worker_context& context);

// /ws and /api/ws.
void add_websocket_routes(net::http_server& server, worker_context& context);

}  // namespace comfydist::worker
