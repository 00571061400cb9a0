// Start-up and shutdown of a native worker process: data folders, engine, routes, server.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "comfy/file_routes.hpp"
#include "engine/model_folders.hpp"
#include "net/http_server.hpp"
#include "nodes/builtin_nodes.hpp"
#include "nodes/distributed_nodes.hpp"
#include "worker/route_helpers.hpp"
#include "worker/routes.hpp"
#include "worker/worker_context.hpp"
#include "worker/worker_options.hpp"

namespace comfydist::worker {
namespace fs = std::filesystem;
namespace {

// Cached node outputs may use this much memory.
constexpr std::size_t kCacheBytes = std::size_t{2} << 30;
constexpr std::size_t kMaxPending = 10000;
constexpr std::size_t kMaxHistory = 10000;

void prepare_folders(const worker_options& options, engine::node_environment& environment) {
  const fs::path& data = options.data_dir;
  environment.input_dir = data / "input";
  environment.output_dir = data / "output";
  environment.temp_dir = data / "temp";
  // ComfyUI empties temp/ at start.
  std::error_code ec;
  fs::remove_all(environment.temp_dir, ec);
  for (const auto& dir : {environment.input_dir, environment.output_dir, environment.temp_dir,
                          data / "models" / "upscale_models"}) {
    fs::create_directories(dir);
  }
  environment.model_folders = engine::default_model_folders(data / "models");
  for (const auto& extra : options.extra_upscale_model_dirs) {
    environment.model_folders["upscale_models"].push_back(extra);
  }
  // The models scripts/bootstrap installs from npm, searched like ComfyUI's extra model paths.
  std::error_code exists_error;
  if (fs::is_directory(COMFYDIST_BUNDLED_MODELS_DIR, exists_error)) {
    environment.model_folders["upscale_models"].emplace_back(COMFYDIST_BUNDLED_MODELS_DIR);
  }
  environment.input_dir = fs::canonical(environment.input_dir);
  environment.output_dir = fs::canonical(environment.output_dir);
  environment.temp_dir = fs::canonical(environment.temp_dir);
  environment.disable_metadata = options.disable_metadata;
  const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  environment.threads = options.threads > 0 ? options.threads : cores;
  environment.debug_delay_scale = options.debug_delay_scale;
}

}  // namespace

int run_worker(const worker_options& options) {
  worker_context context;
  context.options = options;
  prepare_folders(options, context.environment);
  nodes::register_builtin_nodes(context.registry);
  nodes::register_distributed_nodes(context.registry);
  if (options.enable_test_nodes) {
    nodes::register_test_nodes(context.registry);
  }

  net::http_server_options server_options;
  server_options.addresses = options.listen_addresses;
  server_options.port = options.port;
  server_options.max_body_bytes = context.max_upload_bytes();
  server_options.cors_origin = options.cors_origin;
  server_options.server_name = "comfydist-worker";
  server_options.tls_certfile = options.tls_certfile;
  server_options.tls_keyfile = options.tls_keyfile;
  net::http_server server(server_options);
  if (options.auth_token) {
    require_auth_token(server, *options.auth_token);
  }

  context.cache = std::make_unique<engine::output_cache>(kCacheBytes);
  context.queue = std::make_unique<engine::prompt_queue>(kMaxPending, kMaxHistory,
                                                         [&context](std::size_t remaining) {
                                                           json exec_info = json::object();
                                                           exec_info["queue_remaining"] = remaining;
                                                           json status = json::object();
                                                           status["exec_info"] = exec_info;
                                                           json data = json::object();
                                                           data["status"] = status;
                                                           context.hub.broadcast("status", data);
                                                         });
  context.executor = std::make_unique<engine::executor>(context.registry, context.environment,
                                                        *context.cache, context.hub);
  context.loop =
      std::make_unique<engine::execution_loop>(*context.queue, *context.executor, context.hub);
  context.pool = std::make_unique<task_pool>(2, 64);

  add_prompt_routes(server, context);
  comfy::file_folders folders;
  folders.input_dir = context.environment.input_dir;
  folders.output_dir = context.environment.output_dir;
  folders.temp_dir = context.environment.temp_dir;
  folders.upload_mutex = &context.upload_mutex;
  folders.pool = context.pool.get();
  comfy::add_file_routes(
      [&server](const std::string& method, const std::string& path,
                const net::http_handler& handler) { add_api_route(server, method, path, handler); },
      folders);
  add_info_routes(server, context);
  add_websocket_routes(server, context);

  server.start();
  context.loop->start();
  net::stop_on_signals(server);
  spdlog::info("event=listening port={} data_dir={} nodes={} tls={} auth={}", server.bound_port(),
               options.data_dir.string(), context.registry.all().size(),
               !options.tls_certfile.empty(), options.auth_token.has_value());
  // Test harnesses and the master wait for this line on stdout.
  std::printf("comfydist worker ready on port %u\n", static_cast<unsigned>(server.bound_port()));
  std::fflush(stdout);
  server.wait();
  spdlog::info("event=stopping");
  context.loop->stop();
  context.pool->stop();
  server.stop();
  forget_auth_token(server);
  return 0;
}

}  // namespace comfydist::worker
