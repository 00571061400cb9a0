// What the subcommands of the comfydist command line share: registration and default paths.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace comfydist::cli {

// A registered subcommand and what runs it once the command line parsed; `run` returns the
// process exit code.
struct subcommand {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// $XDG_DATA_HOME/comfydist, else ~/.local/share/comfydist, else ./comfydist-data.
std::filesystem::path default_data_dir();

// ComfyUI's --listen value: comma-separated addresses; empty entries dropped.
std::vector<std::string> split_listen(const std::string& value);

// `comfydist worker`: a native ComfyUI-compatible worker.
subcommand add_worker_command(CLI::App& app);
// `comfydist serve`: the master.
subcommand add_serve_command(CLI::App& app);
// `comfydist import-config`: a ComfyUI-Distributed gpu_config.json into comfydist.json.
subcommand add_import_command(CLI::App& app);
// `comfydist workers ...`: the workers of a running master.
subcommand add_workers_command(CLI::App& app);
// `comfydist run WORKFLOW.json`: one workflow on the cluster, its images saved locally.
subcommand add_run_command(CLI::App& app);
// `comfydist upscale IMAGE --model NAME`: one image upscaled in tiles on the cluster.
subcommand add_upscale_command(CLI::App& app);

}  // namespace comfydist::cli
