// The comfydist command line: one binary, one subcommand per role.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <exception>
#include <string>
#include <vector>

#include "cli/cli_common.hpp"
#include "master/config_error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"comfydist: spread ComfyUI workflows over every GPU you can reach"};
  app.set_version_flag("--version", std::string(COMFYDIST_VERSION));
  app.require_subcommand(1);

  std::vector<comfydist::cli::subcommand> commands;
  commands.push_back(comfydist::cli::add_worker_command(app));
  commands.push_back(comfydist::cli::add_serve_command(app));
  commands.push_back(comfydist::cli::add_import_command(app));
  commands.push_back(comfydist::cli::add_workers_command(app));
  commands.push_back(comfydist::cli::add_run_command(app));
  commands.push_back(comfydist::cli::add_upscale_command(app));

  CLI11_PARSE(app, argc, argv);

  try {
    for (const auto& command : commands) {
      if (command.app->parsed()) {
        return command.run();
      }
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
