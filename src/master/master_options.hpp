// Settings of the master process, as given on the command line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace comfydist::master {

struct master_options {
  std::vector<std::string> listen_addresses{"127.0.0.1"};
  std::optional<std::uint16_t> port;  // default: the config's master.port (8188)
  std::filesystem::path data_dir;
  bool no_auto_launch = false;
  std::filesystem::path auth_token_file;
  bool insecure_no_auth = false;
  std::filesystem::path comfydist_binary;  // the running executable, to launch native workers
};

// Runs the master until SIGINT/SIGTERM; returns the process exit code.
int run_master(const master_options& options);

}  // namespace comfydist::master
