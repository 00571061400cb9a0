// The command line and environment that start a local worker: our own binary for the native
// engine, ComfyUI's main.py for the comfyui engine.
#pragma once

#include <filesystem>
#include <string>

#include "master/child_process.hpp"
#include "master/cluster_config.hpp"

namespace comfydist::master {

struct launch_context {
  std::filesystem::path comfydist_binary;  // this executable
  std::filesystem::path workers_dir;       // <data>/workers: each native worker's data dir
  std::filesystem::path logs_dir;          // <data>/logs/workers
  std::filesystem::path pid_file;          // <data>/run/local_workers.json: for adoption
  bool die_with_master = true;
  std::string auth_token_file;  // passed on to native workers when set
};

// Throws config_error for unusable settings (ComfyUI root missing for engine comfyui) and
// std::invalid_argument for extra_args with shell metacharacters.
launch_spec make_launch_spec(const worker_config& worker, const cluster_settings& settings,
                             const launch_context& context);

}  // namespace comfydist::master
