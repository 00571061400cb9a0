// Where nodes find and put files, and process-wide switches that change what nodes do.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace comfydist::engine {

struct node_environment {
  std::filesystem::path input_dir;
  std::filesystem::path output_dir;
  std::filesystem::path temp_dir;
  // Model folder key (e.g. "upscale_models") → directories searched in order.
  std::map<std::string, std::vector<std::filesystem::path>> model_folders;
  bool disable_metadata = false;
  int threads = 1;
  // DebugDelay sleeps this many times its `milliseconds`: benchmarks give workers different
  // scales to emulate slower GPUs on identical hardware.
  double debug_delay_scale = 1.0;
};

}  // namespace comfydist::engine
