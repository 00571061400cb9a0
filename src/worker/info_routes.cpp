// Read-only description routes: node definitions, system and device stats, feature flags, model
// lists, and the root page.
#include <string>

#include "common/api_error.hpp"
#include "engine/model_folders.hpp"
#include "nodes/upscale/upscale_model.hpp"
#include "worker/route_helpers.hpp"
#include "worker/routes.hpp"
#include "worker/system_info.hpp"

#ifndef COMFYDIST_VERSION
#define COMFYDIST_VERSION "0.1.0"
#endif

namespace comfydist::worker {
namespace {

// The ComfyUI API version whose behaviour the worker reproduces.
constexpr const char* kComfyApiVersion = "0.26.0";

json system_stats(const worker_context& context) {
  const memory_info memory = read_memory_info();
  json system = json::object();
  system["os"] = "linux";
  system["ram_total"] = memory.total;
  system["ram_free"] = memory.available;
  system["comfyui_version"] = kComfyApiVersion;
  system["required_frontend_version"] = nullptr;
  system["installed_templates_version"] = nullptr;
  system["required_templates_version"] = nullptr;
  system["comfy_package_versions"] = json::array();
  system["python_version"] = "none (comfydist native worker)";
  system["pytorch_version"] = nullptr;
  system["embedded_python"] = false;
  system["deploy_environment"] = "comfydist-native";
  system["argv"] = json::array({"comfydist", "worker"});
  system["comfydist_version"] = COMFYDIST_VERSION;
  json device = json::object();
  device["name"] = context.options.device;
  device["type"] = "cpu";
  device["index"] = nullptr;
  device["vram_total"] = memory.total;
  device["vram_free"] = memory.available;
  device["torch_vram_total"] = memory.total;
  device["torch_vram_free"] = memory.available;
  json body = json::object();
  body["system"] = system;
  body["devices"] = json::array({device});
  return body;
}

}  // namespace

json server_features(const worker_context& context) {
  json features = json::object();
  features["supports_preview_metadata"] = true;
  features["max_upload_size"] = context.max_upload_bytes();
  features["extension"] = json::object();
  features["node_replacements"] = false;
  features["assets"] = false;
  return features;
}

void add_info_routes(net::http_server& server, worker_context& context) {
  add_api_route(server, "GET", "/object_info",
                [&context](const net::http_request&, const net::http_responder& reply) {
                  reply(json_reply(200, context.registry.object_info(context.environment)));
                });
  add_api_route(
      server, "GET", "/object_info/{node_class}",
      [&context](const net::http_request& request, const net::http_responder& reply) {
        reply(json_reply(200, context.registry.object_info(request.path_params.at("node_class"),
                                                           context.environment)));
      });
  add_api_route(server, "GET", "/system_stats",
                [&context](const net::http_request&, const net::http_responder& reply) {
                  reply(json_reply(200, system_stats(context)));
                });
  add_api_route(server, "GET", "/features",
                [&context](const net::http_request&, const net::http_responder& reply) {
                  reply(json_reply(200, server_features(context)));
                });
  add_api_route(server, "GET", "/models",
                [](const net::http_request&, const net::http_responder& reply) {
                  reply(json_reply(200, engine::model_folder_keys()));
                });
  add_api_route(server, "GET", "/models/{folder}",
                [&context](const net::http_request& request, const net::http_responder& reply) {
                  const std::string& folder = request.path_params.at("folder");
                  // Upscale models are listed as UpscaleModelLoader offers them (loadable files
                  // and the bundled models by name), not as raw files.
                  const auto files =
                      folder == "upscale_models"
                          ? std::optional(nodes::upscale_model_names(context.environment))
                          : engine::list_model_files(context.environment.model_folders, folder);
                  if (!files) {
                    throw api_error(404, "not_found", "unknown model folder '" + folder + "'");
                  }
                  reply(json_reply(200, *files));
                });
  add_api_route(
      server, "GET", "/embeddings",
      [&context](const net::http_request&, const net::http_responder& reply) {
        json names = json::array();
        const auto files =
            engine::list_model_files(context.environment.model_folders, "embeddings");
        for (const auto& file : files.value_or(std::vector<std::string>{})) {
          names.push_back(std::filesystem::path(file).replace_extension().generic_string());
        }
        reply(json_reply(200, names));
      });
  add_api_route(server, "GET", "/extensions",
                [](const net::http_request&, const net::http_responder& reply) {
                  reply(json_reply(200, json::array()));
                });
  server.add_route("GET", "/", [](const net::http_request&, const net::http_responder& reply) {
    net::http_response response;
    response.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    response.headers.emplace_back("Cache-Control", "no-store, must-revalidate");
    response.body =
        "<!doctype html><html><head><title>comfydist worker</title></head><body>"
        "<h1>comfydist native worker</h1><p>This is a ComfyUI-compatible API server without a "
        "web frontend. Queue workflows with <code>POST /prompt</code>; see "
        "<code>/object_info</code> for the nodes it runs.</p></body></html>\n";
    reply(std::move(response));
  });
}

}  // namespace comfydist::worker
