// `comfydist worker`: ComfyUI's command-line options for a native worker.
#include <spdlog/spdlog.h>

#include <memory>
#include <stdexcept>

#include "cli/cli_common.hpp"
#include "net/auth_token.hpp"
#include "worker/worker_options.hpp"

namespace comfydist::cli {
namespace {

struct worker_args {
  worker::worker_options options;
  std::string listen = "127.0.0.1";
  std::string data_dir;
  std::string cors;
  std::string token_file;
};

int run_worker_command(const CLI::App& cmd, worker_args& args) {
  worker::worker_options& options = args.options;
  if (cmd.count("--listen") > 0) {
    options.listen_addresses = split_listen(args.listen.empty() ? "0.0.0.0,::" : args.listen);
  }
  if (cmd.count("--enable-cors-header") > 0) {
    options.cors_origin = args.cors.empty() ? "*" : args.cors;
  }
  options.data_dir =
      args.data_dir.empty() ? default_data_dir() : std::filesystem::path(args.data_dir);
  if (options.device != "cpu") {
    spdlog::error("device '{}' is not available in this build; use --device cpu", options.device);
    return 2;
  }
  if (options.tls_certfile.empty() != options.tls_keyfile.empty()) {
    spdlog::error("HTTPS needs both --tls-certfile and --tls-keyfile");
    return 2;
  }
  // Written as a negated range so that NaN is refused too.
  if (!(options.debug_delay_scale > 0.0 && options.debug_delay_scale <= 100.0)) {
    spdlog::error("--debug-delay-scale must be above 0 and at most 100, got {}",
                  options.debug_delay_scale);
    return 2;
  }
  if (!args.token_file.empty()) {
    try {
      options.auth_token = net::read_auth_token(args.token_file);
    } catch (const std::runtime_error& e) {
      spdlog::error("{}", e.what());
      return 2;
    }
  }
  return worker::run_worker(options);
}

}  // namespace

subcommand add_worker_command(CLI::App& app) {
  auto args = std::make_shared<worker_args>();
  worker::worker_options& options = args->options;
  auto* cmd = app.add_subcommand("worker", "Run a native ComfyUI-compatible worker");
  cmd->add_option("--listen", args->listen,
                  "Address(es) to listen on, comma-separated; without a value: all interfaces")
      ->expected(0, 1)
      ->default_str("0.0.0.0,::");
  cmd->add_option("--port", options.port, "Port to listen on (0: any free port)")
      ->capture_default_str();
  cmd->add_option("--data-dir", args->data_dir,
                  "Folder with input/, output/, temp/ and models/ (ComfyUI's layout)");
  cmd->add_option("--device", options.device, "Compute device: cpu")->capture_default_str();
  cmd->add_option("--threads", options.threads, "Worker threads for nodes (0: all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--enable-cors-header", args->cors,
                  "Send CORS headers allowing this origin; without a value: '*'")
      ->expected(0, 1)
      ->default_str("*");
  cmd->add_option("--max-upload-size", options.max_upload_size_mb, "Largest request body in MB")
      ->check(CLI::Range(0.001, 65536.0))
      ->capture_default_str();
  cmd->add_flag("--disable-metadata", options.disable_metadata,
                "Do not write the prompt and workflow into saved PNG files");
  cmd->add_option("--auth-token-file", args->token_file,
                  "Require 'Authorization: Bearer <token>' with the token in this file on every "
                  "API route and /ws");
  cmd->add_option("--tls-certfile", options.tls_certfile,
                  "PEM certificate (chain) for HTTPS; needs --tls-keyfile");
  cmd->add_option("--tls-keyfile", options.tls_keyfile,
                  "PEM private key for HTTPS; needs --tls-certfile");
  cmd->add_flag("--enable-test-nodes", options.enable_test_nodes,
                "Offer the DebugDelay node (benchmarks and tests)");
  cmd->add_option("--debug-delay-scale", options.debug_delay_scale,
                  "Multiply DebugDelay sleeps by F (0 < F <= 100) to emulate a slower GPU")
      ->type_name("F")
      ->capture_default_str();
  return {cmd, [cmd, args] { return run_worker_command(*cmd, *args); }};
}

}  // namespace comfydist::cli
