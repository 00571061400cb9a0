// The comfydist command line: one binary, one subcommand per role.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <exception>
#include <string>

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
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  return 0;
}
