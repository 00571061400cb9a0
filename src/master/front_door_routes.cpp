// The master's ComfyUI API (design.md §1: the cluster looks like one big ComfyUI): prompts are
// validated against what the workers offer and become jobs; queue, history, interrupt, files,
// object_info and system_stats answer in ComfyUI's shapes.
#include <sys/utsname.h>

#include <fstream>

#include "comfy/file_routes.hpp"
#include "comfy/prompt_request.hpp"
#include "comfy/request_fields.hpp"
#include "common/api_error.hpp"
#include "common/clock.hpp"
#include "common/json_text.hpp"
#include "common/uuid.hpp"
#include "engine/prompt_validator.hpp"
#include "master/job_views.hpp"
#include "master/master_routes.hpp"
#include "master/route_offload.hpp"

namespace comfydist::master {
namespace {

using comfy::id_list;
using comfy::object_body;
using comfy::prompt_error_body;
using comfy::truthy;

constexpr std::size_t kMaxPromptNodes = 10000;

std::size_t count_query(const net::http_request& request, const std::string& name,
                        std::size_t fallback, std::size_t max) {
  const auto value = request.query_param(name);
  if (!value) {
    return fallback;
  }
  try {
    std::size_t used = 0;
    const long long parsed = std::stoll(*value, &used);
    if (used != value->size() || parsed < 0) {
      throw std::invalid_argument("negative");
    }
    return std::min<std::size_t>(static_cast<std::size_t>(parsed), max);
  } catch (const std::exception&) {
    throw api_error(400, "invalid_query",
                    "'" + name + "' must be a non-negative integer, got '" + *value + "'");
  }
}

std::vector<worker_config> online_configs(master_context& context) {
  std::vector<worker_config> out;
  for (auto& [worker, queue] : context.registry->online_workers()) {
    out.push_back(std::move(worker));
  }
  return out;
}

}  // namespace

const std::vector<std::string>& distributed_node_names() {
  static const std::vector<std::string> names{"DistributedSeed", "DistributedCollector",
                                              "DistributedValue", "ImageBatchDivider",
                                              "DistributedTiles"};
  return names;
}

std::shared_ptr<const node_catalog> cluster_catalog(master_context& context) {
  const auto workers = online_configs(context);
  if (workers.empty()) {
    throw api_error(503, "no_workers",
                    "no worker is online: start one (comfydist workers launch ID) or wait until "
                    "the workers are up (GET /distributed/workers shows their state)");
  }
  return context.catalog->catalog(workers);
}

validated_prompt validate_for_cluster(master_context& context, json prompt,
                                      const std::optional<std::vector<std::string>>& targets) {
  const auto catalog = cluster_catalog(context);
  validated_prompt out;
  engine::validation_result result =
      engine::validate_prompt(prompt, targets, catalog->registry(), context.environment);
  if (!result.ok) {
    throw prompt_rejected(result.error ? result.error->message : "invalid prompt",
                          prompt_error_body(*result.error, result.node_errors));
  }
  out.prompt = std::move(prompt);
  out.outputs = std::move(result.outputs);
  out.node_errors = std::move(result.node_errors);
  return out;
}

void add_front_door_routes(net::http_server& server, master_context& context) {
  add_master_route(
      server, context, "POST", "/prompt",
      [&context](net::http_request request, const net::http_responder& reply) {
        auto shared = std::make_shared<net::http_request>(std::move(request));
        offload(context, reply, [&context, shared]() {
          comfy::prompt_request parsed =
              comfy::parse_prompt_request(parse_json_body(shared->body), kMaxPromptNodes);
          if (!parsed.prompt) {
            return master_json(400, prompt_error_body({"no_prompt", "No prompt provided",
                                                       "No prompt provided", json::object()},
                                                      json::object()));
          }
          std::optional<std::string> prompt_id;
          if (!parsed.prompt_id.is_null()) {
            if (!parsed.prompt_id.is_string() ||
                !is_canonical_uuid(parsed.prompt_id.get<std::string>())) {
              return master_json(
                  400, prompt_error_body({"invalid_prompt_id", "prompt_id must be a valid UUID",
                                          "prompt_id must be a UUID string in canonical "
                                          "lowercase hyphenated form; omit it to let the server "
                                          "generate one",
                                          json::object()},
                                         json::object()));
            }
            prompt_id = parsed.prompt_id.get<std::string>();
          }
          validated_prompt valid = validate_for_cluster(context, std::move(*parsed.prompt),
                                                        parsed.partial_execution_targets);
          submit_request submit;
          submit.prompt = std::move(valid.prompt);
          submit.prompt_id = prompt_id;
          submit.outputs_to_execute = valid.outputs;
          submit.extra_data = parsed.extra_data;
          for (const char* key : {"auth_token_comfy_org", "api_key_comfy_org"}) {
            submit.extra_data.erase(key);
          }
          submit.extra_data["create_time"] = now_ms();
          submit.client_id = parsed.client_id.value_or("");
          submit.number = parsed.number;
          submit.front = parsed.front;
          const submit_result queued = context.scheduler->submit(std::move(submit));
          json body = json::object();
          body["prompt_id"] = queued.prompt_id;
          body["number"] = queued.number;
          body["node_errors"] = valid.node_errors;
          return master_json(200, body);
        });
      });
  add_master_route(server, context, "GET", "/prompt",
                   [&context](const net::http_request&, const net::http_responder& reply) {
                     json exec_info = json::object();
                     exec_info["queue_remaining"] = context.scheduler->queue_remaining();
                     reply(master_json(200, json::object({{"exec_info", exec_info}})));
                   });
  add_master_route(server, context, "GET", "/queue",
                   [&context](const net::http_request&, const net::http_responder& reply) {
                     reply(master_json(200, context.scheduler->queue_json()));
                   });
  add_master_route(server, context, "POST", "/queue",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const json body = object_body(request.body);
                     const auto ids = id_list(body, "delete");
                     if (truthy(body, "clear")) {
                       context.scheduler->clear_queued();
                     }
                     if (!ids.empty()) {
                       context.scheduler->delete_queued(ids);
                     }
                     reply(net::http_response::empty(200));
                   });
  add_master_route(
      server, context, "GET", "/history",
      [&context](const net::http_request& request, const net::http_responder& reply) {
        const std::size_t limit = count_query(request, "max_items", 10000, 10000);
        const std::size_t offset = count_query(request, "offset", 0, 1000000);
        // Reading and rendering stored jobs is not for the I/O thread.
        offload(context, reply, [&context, limit, offset]() {
          // Newest first; unfinished jobs are interleaved, so read that many more.
          const std::size_t wanted =
              offset + limit + static_cast<std::size_t>(context.scheduler->queue_remaining());
          json out = json::object();
          std::size_t skipped = 0;
          for (const auto& job : context.jobs->jobs(std::min<std::size_t>(wanted, 10000))) {
            if (!is_finished(job.state)) {
              continue;
            }
            if (skipped++ < offset) {
              continue;
            }
            if (out.size() >= limit) {
              break;
            }
            out[job.id] = history_entry(job);
          }
          return master_json(200, out);
        });
      });
  add_master_route(server, context, "GET", "/history/{prompt_id}",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const std::string id = request.path_params.at("prompt_id");
                     json out = json::object();
                     const auto job = context.jobs->job(id);
                     if (job && is_finished(job->state)) {
                       out[id] = history_entry(*job);
                     }
                     reply(master_json(200, out));
                   });
  add_master_route(server, context, "POST", "/history",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const json body = object_body(request.body);
                     const auto ids = id_list(body, "delete");
                     if (truthy(body, "clear")) {
                       context.jobs->clear_finished();
                     }
                     for (const auto& id : ids) {
                       context.jobs->delete_job(id);
                     }
                     reply(net::http_response::empty(200));
                   });
  add_master_route(
      server, context, "POST", "/interrupt",
      [&context](const net::http_request& request, const net::http_responder& reply) {
        json body = json::object();
        try {
          body = request.body.empty() ? json::object() : json::parse(request.body);
        } catch (const json::parse_error&) {
          body = json::object();
        }
        std::optional<std::string> target;
        if (body.is_object() && body.contains("prompt_id") && body["prompt_id"].is_string()) {
          target = body["prompt_id"].get<std::string>();
        }
        context.scheduler->interrupt(target);
        reply(net::http_response::empty(200));
      });
  add_master_route(server, context, "GET", "/object_info",
                   [&context](const net::http_request&, const net::http_responder& reply) {
                     offload(context, reply, [&context]() {
                       return master_json(
                           200, cluster_catalog(context)->object_info(context.environment));
                     });
                   });
  add_master_route(server, context, "GET", "/object_info/{node_class}",
                   [&context](const net::http_request& request, const net::http_responder& reply) {
                     const std::string name = request.path_params.at("node_class");
                     offload(context, reply, [&context, name]() {
                       return master_json(200, cluster_catalog(context)->registry().object_info(
                                                   name, context.environment));
                     });
                   });
  add_master_route(
      server, context, "GET", "/system_stats",
      [&context](const net::http_request&, const net::http_responder& reply) {
        json system = json::object();
        utsname names{};
        system["os"] = uname(&names) == 0 ? std::string(names.sysname) : std::string("posix");
        long long total = 0;
        long long available = 0;
        std::ifstream meminfo("/proc/meminfo");
        std::string key;
        long long value = 0;
        std::string unit;
        while (meminfo >> key >> value >> unit) {
          if (key == "MemTotal:") {
            total = value * 1024;
          } else if (key == "MemAvailable:") {
            available = value * 1024;
          }
        }
        system["ram_total"] = total;
        system["ram_free"] = available;
        system["comfyui_version"] = std::string("comfydist-master ") + COMFYDIST_MASTER_VERSION;
        system["required_frontend_version"] = "";
        system["python_version"] = "";
        system["pytorch_version"] = "";
        system["embedded_python"] = false;
        system["argv"] = json::array({"comfydist", "serve"});
        json devices = json::array();
        for (const auto& worker : context.registry->workers_json()) {
          for (const auto& device : worker.value("devices", json::array())) {
            json d = device;
            d["name"] = worker.value("name", std::string()) + ": " +
                        device.value("name", std::string("device"));
            d["worker_id"] = worker.value("id", std::string());
            devices.push_back(d);
          }
        }
        json out = json::object();
        out["system"] = system;
        out["devices"] = devices;
        reply(master_json(200, out));
      });
  add_master_route(server, context, "GET", "/features",
                   [](const net::http_request&, const net::http_responder& reply) {
                     json features = json::object();
                     features["supports_preview_metadata"] = false;
                     features["max_upload_size"] = std::int64_t{100} << 20;
                     reply(master_json(200, features));
                   });

  comfy::file_folders folders;
  folders.input_dir = context.environment.input_dir;
  folders.output_dir = context.environment.output_dir;
  folders.temp_dir = context.environment.temp_dir;
  folders.upload_mutex = &context.upload_mutex;
  folders.pool = context.pool.get();
  comfy::add_file_routes(
      [&server, &context](const std::string& method, const std::string& path,
                          const net::http_handler& handler) {
        add_master_route(server, context, method, path, handler);
      },
      folders);
}

}  // namespace comfydist::master
