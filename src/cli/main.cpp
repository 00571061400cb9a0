// The comfydist command line: one binary, one subcommand per role.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

#include "common/json.hpp"
#include "master/config_error.hpp"
#include "master/config_store.hpp"
#include "master/distributed_import.hpp"
#include "master/master_options.hpp"
#include "worker/worker_options.hpp"

namespace {

std::filesystem::path default_data_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "comfydist";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".local" / "share" / "comfydist";
  }
  return std::filesystem::current_path() / "comfydist-data";
}

// ComfyUI's --listen: absent → 127.0.0.1; given without a value → every interface.
std::vector<std::string> split_listen(const std::string& value) {
  std::vector<std::string> out;
  std::string current;
  for (const char c : value) {
    if (c == ',') {
      if (!current.empty()) {
        out.push_back(current);
      }
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) {
    out.push_back(current);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"comfydist: spread ComfyUI workflows over every GPU you can reach"};
  app.set_version_flag("--version", std::string(COMFYDIST_VERSION));
  app.require_subcommand(1);

  comfydist::worker::worker_options worker;
  std::string listen = "127.0.0.1";
  std::string data_dir;
  std::string cors;
  auto* worker_cmd = app.add_subcommand("worker", "Run a native ComfyUI-compatible worker");
  worker_cmd
      ->add_option("--listen", listen,
                   "Address(es) to listen on, comma-separated; without a value: all interfaces")
      ->expected(0, 1)
      ->default_str("0.0.0.0,::");
  worker_cmd->add_option("--port", worker.port, "Port to listen on")->capture_default_str();
  worker_cmd->add_option("--data-dir", data_dir,
                         "Folder with input/, output/, temp/ and models/ (ComfyUI's layout)");
  worker_cmd->add_option("--device", worker.device, "Compute device: cpu")->capture_default_str();
  worker_cmd->add_option("--threads", worker.threads, "Worker threads for nodes (0: all cores)")
      ->check(CLI::Range(0, 1024));
  worker_cmd
      ->add_option("--enable-cors-header", cors,
                   "Send CORS headers allowing this origin; without a value: '*'")
      ->expected(0, 1)
      ->default_str("*");
  worker_cmd
      ->add_option("--max-upload-size", worker.max_upload_size_mb, "Largest request body in MB")
      ->check(CLI::Range(0.001, 65536.0))
      ->capture_default_str();
  worker_cmd->add_flag("--disable-metadata", worker.disable_metadata,
                       "Do not write the prompt and workflow into saved PNG files");

  comfydist::master::master_options master;
  std::string serve_listen = "127.0.0.1";
  std::string serve_data_dir;
  std::string token_file;
  int serve_port = 0;
  auto* serve_cmd = app.add_subcommand("serve", "Run the master: workers, jobs, the panel");
  serve_cmd
      ->add_option("--listen", serve_listen,
                   "Address(es) to listen on, comma-separated; without a value: all interfaces")
      ->expected(0, 1)
      ->default_str("0.0.0.0,::");
  serve_cmd->add_option("--port", serve_port, "Port (default: the config's master.port, 8188)")
      ->check(CLI::Range(1, 65535));
  serve_cmd->add_option("--data-dir", serve_data_dir,
                        "Folder with comfydist.json, logs/, input/, output/");
  serve_cmd->add_flag("--no-auto-launch", master.no_auto_launch,
                      "Do not start local workers at start-up");
  serve_cmd->add_option("--auth-token-file", token_file,
                        "Require 'Authorization: Bearer <token>' with the token in this file");
  serve_cmd->add_flag("--insecure-no-auth", master.insecure_no_auth,
                      "Allow listening on a network address without an auth token");

  std::string import_file;
  std::string import_data_dir;
  auto* import_cmd = app.add_subcommand(
      "import-config", "Import a ComfyUI-Distributed gpu_config.json into comfydist.json");
  import_cmd->add_option("file", import_file, "The extension's gpu_config.json")->required();
  import_cmd->add_option("--data-dir", import_data_dir, "The master's data folder");

  CLI11_PARSE(app, argc, argv);

  try {
    if (worker_cmd->parsed()) {
      if (worker_cmd->count("--listen") > 0) {
        worker.listen_addresses = split_listen(listen.empty() ? "0.0.0.0,::" : listen);
      }
      if (worker_cmd->count("--enable-cors-header") > 0) {
        worker.cors_origin = cors.empty() ? "*" : cors;
      }
      worker.data_dir = data_dir.empty() ? default_data_dir() : std::filesystem::path(data_dir);
      if (worker.device != "cpu") {
        spdlog::error("device '{}' is not available in this build; use --device cpu",
                      worker.device);
        return 2;
      }
      return comfydist::worker::run_worker(worker);
    }
    if (serve_cmd->parsed()) {
      if (serve_cmd->count("--listen") > 0) {
        master.listen_addresses = split_listen(serve_listen.empty() ? "0.0.0.0,::" : serve_listen);
      }
      if (serve_port > 0) {
        master.port = static_cast<std::uint16_t>(serve_port);
      }
      master.data_dir =
          serve_data_dir.empty() ? default_data_dir() : std::filesystem::path(serve_data_dir);
      master.auth_token_file = token_file;
      master.comfydist_binary = std::filesystem::read_symlink("/proc/self/exe");
      return comfydist::master::run_master(master);
    }
    if (import_cmd->parsed()) {
      const std::filesystem::path data =
          import_data_dir.empty() ? default_data_dir() : std::filesystem::path(import_data_dir);
      std::filesystem::create_directories(data);
      comfydist::master::config_store store(data / "comfydist.json");
      store.load();
      std::ifstream in(import_file);
      if (!in) {
        spdlog::error("cannot read '{}'", import_file);
        return 2;
      }
      comfydist::json document;
      try {
        document = comfydist::json::parse(in);
      } catch (const comfydist::json::parse_error& e) {
        spdlog::error("'{}' is not valid JSON: {}", import_file, e.what());
        return 2;
      }
      std::vector<std::string> notes;
      store.update([&](comfydist::master::cluster_config& config) {
        auto result = comfydist::master::import_distributed_config(document, config);
        config = std::move(result.config);
        notes = std::move(result.notes);
      });
      for (const auto& note : notes) {
        std::printf("%s\n", note.c_str());
      }
      std::printf("wrote %s\n", store.path().c_str());
      return 0;
    }
  } catch (const comfydist::master::config_error& e) {
    spdlog::error("invalid configuration: {}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  return 0;
}
