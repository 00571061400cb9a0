// `comfydist serve` (the master) and `comfydist import-config`.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/cli_common.hpp"
#include "common/json.hpp"
#include "master/config_store.hpp"
#include "master/distributed_import.hpp"
#include "master/master_options.hpp"

namespace comfydist::cli {
namespace {

struct serve_args {
  master::master_options options;
  std::string listen = "127.0.0.1";
  std::string data_dir;
  std::string token_file;
  int port = 0;
};

int run_serve(const CLI::App& cmd, serve_args& args) {
  master::master_options& options = args.options;
  if (cmd.count("--listen") > 0) {
    options.listen_addresses = split_listen(args.listen.empty() ? "0.0.0.0,::" : args.listen);
  }
  if (cmd.count("--port") > 0) {
    options.port = static_cast<std::uint16_t>(args.port);
  }
  options.data_dir =
      args.data_dir.empty() ? default_data_dir() : std::filesystem::path(args.data_dir);
  options.auth_token_file = args.token_file;
  options.comfydist_binary = std::filesystem::read_symlink("/proc/self/exe");
  return master::run_master(options);
}

struct import_args {
  std::string file;
  std::string data_dir;
};

int run_import(const import_args& args) {
  const std::filesystem::path data =
      args.data_dir.empty() ? default_data_dir() : std::filesystem::path(args.data_dir);
  std::filesystem::create_directories(data);
  master::config_store store(data / "comfydist.json");
  store.load();
  std::ifstream in(args.file);
  if (!in) {
    spdlog::error("cannot read '{}'", args.file);
    return 2;
  }
  json document;
  try {
    document = json::parse(in);
  } catch (const json::parse_error& e) {
    spdlog::error("'{}' is not valid JSON: {}", args.file, e.what());
    return 2;
  }
  std::vector<std::string> notes;
  store.update([&](master::cluster_config& config) {
    auto result = master::import_distributed_config(document, config);
    config = std::move(result.config);
    notes = std::move(result.notes);
  });
  for (const auto& note : notes) {
    std::printf("%s\n", note.c_str());
  }
  std::printf("wrote %s\n", store.path().c_str());
  return 0;
}

}  // namespace

subcommand add_serve_command(CLI::App& app) {
  auto args = std::make_shared<serve_args>();
  auto* cmd = app.add_subcommand("serve", "Run the master: workers, jobs, the panel");
  cmd->add_option("--listen", args->listen,
                  "Address(es) to listen on, comma-separated; without a value: all interfaces")
      ->expected(0, 1)
      ->default_str("0.0.0.0,::");
  cmd->add_option("--port", args->port,
                  "Port (default: the config's master.port, 8188; 0: any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--data-dir", args->data_dir,
                  "Folder with comfydist.json, logs/, input/, output/");
  cmd->add_flag("--no-auto-launch", args->options.no_auto_launch,
                "Do not start local workers at start-up");
  cmd->add_option("--auth-token-file", args->token_file,
                  "Require 'Authorization: Bearer <token>' with the token in this file");
  cmd->add_flag("--insecure-no-auth", args->options.insecure_no_auth,
                "Allow listening on a network address without an auth token");
  return {cmd, [cmd, args] { return run_serve(*cmd, *args); }};
}

subcommand add_import_command(CLI::App& app) {
  auto args = std::make_shared<import_args>();
  auto* cmd = app.add_subcommand(
      "import-config", "Import a ComfyUI-Distributed gpu_config.json into comfydist.json");
  cmd->add_option("file", args->file, "The extension's gpu_config.json")->required();
  cmd->add_option("--data-dir", args->data_dir, "The master's data folder");
  return {cmd, [args] { return run_import(*args); }};
}

}  // namespace comfydist::cli
