// /distributed/queue (the Python extension's body, plus count, workers, priority and tiles) and the
// jobs API: list, one job with its units, cancel, retry failed units.
#include "comfy/prompt_request.hpp"
#include "common/api_error.hpp"
#include "common/clock.hpp"
#include "common/json_text.hpp"
#include "master/master_routes.hpp"
#include "master/route_offload.hpp"

namespace comfydist::master {
namespace {

constexpr int kMaxCount = 1000;

// The extension sends worker ids as strings, or as objects with an id.
std::vector<std::string> worker_ids(const json& body) {
  std::vector<std::string> ids;
  for (const char* key : {"workers", "enabled_worker_ids"}) {
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) {
      continue;
    }
    if (!it->is_array() || it->size() > 1000) {
      throw api_error(400, "invalid_workers",
                      std::string("'") + key + "' must be a list of at most 1000 worker ids");
    }
    for (const auto& entry : *it) {
      if (entry.is_string()) {
        ids.push_back(entry.get<std::string>());
      } else if (entry.is_object() && entry.contains("id") && entry["id"].is_string()) {
        ids.push_back(entry["id"].get<std::string>());
      } else {
        throw api_error(400, "invalid_workers",
                        std::string("'") + key + "' entries must be ids or {\"id\": ...}");
      }
    }
    if (!ids.empty()) {
      break;  // `workers` wins over the extension's alias
    }
  }
  return ids;
}

net::http_response queue_distributed(master_context& context, const json& body) {
  json prompt;
  if (body.contains("prompt")) {
    prompt = body["prompt"];
  } else if (body.contains("workflow") && body["workflow"].is_object() &&
             body["workflow"].contains("prompt")) {
    prompt = body["workflow"]["prompt"];
  }
  if (!prompt.is_object()) {
    throw api_error(400, "no_prompt", "'prompt' must be an API-format workflow object");
  }
  if (prompt.size() > 10000) {
    throw api_error(413, "prompt_too_large", "the prompt has more than 10000 nodes");
  }
  std::optional<int> count;
  if (body.contains("count") && !body["count"].is_null()) {
    if (!body["count"].is_number_integer()) {
      throw api_error(400, "invalid_count", "'count' must be an integer");
    }
    const auto n = body["count"].get<std::int64_t>();
    if (n < 1 || n > kMaxCount) {
      throw api_error(400, "invalid_count",
                      "count must be between 1 and " + std::to_string(kMaxCount) + ", got " +
                          std::to_string(n));
    }
    count = static_cast<int>(n);
  }
  int priority = 0;
  if (body.contains("priority") && !body["priority"].is_null()) {
    if (!body["priority"].is_number_integer() || body["priority"].get<std::int64_t>() < -1000 ||
        body["priority"].get<std::int64_t>() > 1000) {
      throw api_error(400, "invalid_priority", "'priority' must be an integer in -1000..1000");
    }
    priority = body["priority"].get<int>();
  }
  std::string client_id;
  if (body.contains("client_id") && body["client_id"].is_string()) {
    client_id = body["client_id"].get<std::string>();
    if (client_id.size() > 256) {
      throw api_error(400, "invalid_client_id", "'client_id' is longer than 256 characters");
    }
  }
  std::vector<std::string> workers = worker_ids(body);
  std::optional<tile_settings> tiles;
  if (body.contains("tiles") && !body["tiles"].is_null()) {
    tiles = parse_tile_settings(body["tiles"]);
  }

  validated_prompt valid = validate_for_cluster(context, std::move(prompt), std::nullopt);
  submit_request submit;
  submit.prompt = std::move(valid.prompt);
  submit.outputs_to_execute = valid.outputs;
  submit.extra_data = json::object();
  if (body.contains("workflow") && body["workflow"].is_object()) {
    submit.extra_data["extra_pnginfo"] = json::object({{"workflow", body["workflow"]}});
  }
  submit.extra_data["create_time"] = now_ms();
  submit.client_id = client_id;
  submit.count = count;
  submit.worker_ids = std::move(workers);
  submit.priority = priority;
  submit.tiles = tiles;
  const submit_result queued = context.scheduler->submit(std::move(submit));
  json out = json::object();
  out["prompt_id"] = queued.prompt_id;
  out["number"] = queued.number;
  out["node_errors"] = valid.node_errors;
  out["worker_count"] = queued.worker_count;
  out["auto_prepare_supported"] = true;
  return master_json(200, out);
}

}  // namespace

void add_job_routes(net::http_server& server, master_context& context) {
  add_master_route(server, context, "POST", "/distributed/queue",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     json body = parse_json_body(request.body);
                     if (!body.is_object()) {
                       throw api_error(400, "invalid_request",
                                       "the request body must be a JSON object");
                     }
                     auto shared = std::make_shared<json>(std::move(body));
                     offload(context, reply,
                             [&context, shared]() { return queue_distributed(context, *shared); });
                   });
  add_master_route(server, context, "GET", "/distributed/jobs",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     std::size_t limit = 50;
                     if (const auto text = request.query_param("limit")) {
                       try {
                         limit = std::stoul(*text);
                       } catch (const std::exception&) {
                         throw api_error(400, "invalid_query", "'limit' must be an integer");
                       }
                     }
                     limit = std::min<std::size_t>(std::max<std::size_t>(limit, 1), 1000);
                     // Up to a thousand stored jobs and their units: off the I/O thread.
                     offload(context, reply, [&context, limit]() {
                       return master_json(200, context.scheduler->jobs_json(limit));
                     });
                   });
  add_master_route(
      server, context, "GET", "/distributed/jobs/{id}",
      [&context](const net::http_request& request, const net::http_responder& reply) {
        reply(master_json(200, context.scheduler->job_json(request.path_params.at("id"))));
      });
  add_master_route(server, context, "POST", "/distributed/jobs/{id}/cancel",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const std::string id = request.path_params.at("id");
                     context.scheduler->cancel(id);
                     json out = json::object();
                     out["id"] = id;
                     out["state"] = "cancelled";
                     reply(master_json(200, out));
                   });
  add_master_route(server, context, "POST", "/distributed/jobs/{id}/retry",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const std::string id = request.path_params.at("id");
                     const int requeued = context.scheduler->retry_failed(id);
                     json out = json::object();
                     out["id"] = id;
                     out["state"] = "running";
                     out["requeued"] = requeued;
                     reply(master_json(200, out));
                   });
}

}  // namespace comfydist::master
