// The prompt lifecycle routes: queueing, queue and history views, interrupt and free.
#include <optional>
#include <string>
#include <vector>

#include "comfy/prompt_request.hpp"
#include "comfy/request_fields.hpp"
#include "common/api_error.hpp"
#include "common/clock.hpp"
#include "common/uuid.hpp"
#include "engine/prompt_validator.hpp"
#include "worker/route_helpers.hpp"
#include "worker/routes.hpp"

namespace comfydist::worker {
namespace {

using comfy::id_list;
using comfy::object_body;
using comfy::prompt_error_body;
using comfy::truthy;

constexpr std::size_t kMaxPromptNodes = 10000;

// An optional JSON body: empty or invalid is treated as {} (ComfyUI's /interrupt and /free).
json lenient_body(const std::string& body) {
  if (body.empty()) {
    return json::object();
  }
  try {
    json parsed = parse_json_body(body);
    return parsed.is_object() ? parsed : json::object();
  } catch (const api_error&) {
    return json::object();
  }
}

std::optional<long long> int_query(const net::http_request& request, const std::string& name) {
  const auto value = request.query_param(name);
  if (!value) {
    return std::nullopt;
  }
  try {
    std::size_t used = 0;
    const long long parsed = std::stoll(*value, &used);
    if (used != value->size()) {
      throw std::invalid_argument("trailing text");
    }
    return parsed;
  } catch (const std::exception&) {
    throw api_error(400, "invalid_query",
                    "'" + name + "' must be an integer, got '" + *value + "'");
  }
}

void post_prompt(worker_context& context, const net::http_request& request,
                 const net::http_responder& reply) {
  comfy::prompt_request parsed =
      comfy::parse_prompt_request(parse_json_body(request.body), kMaxPromptNodes);

  // ComfyUI takes the number before validation, so a rejected prompt also consumes one.
  json number;
  if (parsed.number) {
    number = *parsed.number;
  } else {
    const std::int64_t n = context.next_number.fetch_add(1);
    number = parsed.front ? -n : n;
  }

  if (!parsed.prompt) {
    reply(json_reply(400, prompt_error_body({"no_prompt", "No prompt provided",
                                             "No prompt provided", json::object()},
                                            json::object())));
    return;
  }
  std::string prompt_id;
  if (parsed.prompt_id.is_null()) {
    prompt_id = make_uuid4();
  } else if (parsed.prompt_id.is_string() &&
             is_canonical_uuid(parsed.prompt_id.get<std::string>())) {
    prompt_id = parsed.prompt_id.get<std::string>();
  } else {
    reply(json_reply(
        400, prompt_error_body(
                 {"invalid_prompt_id", "prompt_id must be a valid UUID",
                  "prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it "
                  "to let the server generate one",
                  json::object()},
                 json::object())));
    return;
  }

  json prompt = std::move(*parsed.prompt);
  const engine::validation_result result = engine::validate_prompt(
      prompt, parsed.partial_execution_targets, context.registry, context.environment);

  json extra_data = parsed.extra_data;
  if (parsed.client_id) {
    extra_data["client_id"] = *parsed.client_id;
  }
  if (!result.ok) {
    reply(json_reply(400, prompt_error_body(*result.error, result.node_errors)));
    return;
  }
  engine::queue_item item;
  item.number = number;
  item.prompt_id = prompt_id;
  item.prompt = std::move(prompt);
  for (const char* key : {"auth_token_comfy_org", "api_key_comfy_org"}) {
    if (extra_data.contains(key)) {
      item.sensitive[key] = extra_data[key];
      extra_data.erase(key);
    }
  }
  extra_data["create_time"] = now_ms();
  item.extra_data = std::move(extra_data);
  item.outputs = result.outputs;
  if (!context.queue->put(std::move(item))) {
    throw api_error(429, "queue_full", "the queue is full; wait for pending prompts to finish");
  }
  json body = json::object();
  body["prompt_id"] = prompt_id;
  body["number"] = number;
  body["node_errors"] = result.node_errors;
  reply(json_reply(200, body));
}

}  // namespace

void add_prompt_routes(net::http_server& server, worker_context& context) {
  add_api_route(server, "POST", "/prompt",
                [&context](const net::http_request& request, const net::http_responder& reply) {
                  post_prompt(context, request, reply);
                });
  add_api_route(server, "GET", "/prompt",
                [&context](const net::http_request&, const net::http_responder& reply) {
                  json exec_info = json::object();
                  exec_info["queue_remaining"] = context.queue->remaining();
                  json body = json::object();
                  body["exec_info"] = exec_info;
                  reply(json_reply(200, body));
                });
  add_api_route(server, "GET", "/queue",
                [&context](const net::http_request&, const net::http_responder& reply) {
                  reply(json_reply(200, context.queue->queue_json()));
                });
  add_api_route(server, "POST", "/queue",
                [&context](const net::http_request& request, const net::http_responder& reply) {
                  const json body = object_body(request.body);
                  const auto ids = id_list(body, "delete");
                  if (truthy(body, "clear")) {
                    context.queue->wipe_pending();
                  }
                  if (!ids.empty()) {
                    context.queue->delete_pending(ids);
                  }
                  reply(net::http_response::empty(200));
                });
  add_api_route(server, "GET", "/history",
                [&context](const net::http_request& request, const net::http_responder& reply) {
                  const auto max_items = int_query(request, "max_items");
                  const auto offset = int_query(request, "offset");
                  if (max_items && *max_items < 0) {
                    throw api_error(400, "invalid_query", "'max_items' must not be negative");
                  }
                  std::optional<std::size_t> limit;
                  if (max_items) {
                    limit = static_cast<std::size_t>(*max_items);
                  }
                  reply(json_reply(200, context.queue->history_json(limit, offset)));
                });
  add_api_route(server, "GET", "/history/{prompt_id}",
                [&context](const net::http_request& request, const net::http_responder& reply) {
                  reply(json_reply(
                      200, context.queue->history_entry_json(request.path_params.at("prompt_id"))));
                });
  add_api_route(server, "POST", "/history",
                [&context](const net::http_request& request, const net::http_responder& reply) {
                  const json body = object_body(request.body);
                  const auto ids = id_list(body, "delete");
                  if (truthy(body, "clear")) {
                    context.queue->wipe_history();
                  }
                  if (!ids.empty()) {
                    context.queue->delete_history(ids);
                  }
                  reply(net::http_response::empty(200));
                });
  add_api_route(server, "POST", "/interrupt",
                [&context](const net::http_request& request, const net::http_responder& reply) {
                  const json body = lenient_body(request.body);
                  const auto target = body.find("prompt_id");
                  if (target != body.end() && target->is_string()) {
                    const auto running = context.queue->running_prompt_id();
                    if (running && *running == target->get<std::string>()) {
                      context.executor->interrupt();
                    }
                  } else {
                    context.executor->interrupt();
                  }
                  reply(net::http_response::empty(200));
                });
  add_api_route(server, "POST", "/free",
                [&context](const net::http_request& request, const net::http_responder& reply) {
                  const json body = lenient_body(request.body);
                  context.loop->request_free(truthy(body, "unload_models"),
                                             truthy(body, "free_memory"));
                  reply(net::http_response::empty(200));
                });
}

}  // namespace comfydist::worker
