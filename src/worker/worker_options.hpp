// Settings of a native worker process, as given on the command line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace comfydist::worker {

struct worker_options {
  std::vector<std::string> listen_addresses{"127.0.0.1"};
  std::uint16_t port = 8189;
  std::filesystem::path data_dir;
  std::string device = "cpu";
  int threads = 0;  // 0: all cores
  std::optional<std::string> cors_origin;
  double max_upload_size_mb = 100.0;
  bool disable_metadata = false;
  // With a value, every API route and the /ws upgrade require it (--auth-token-file).
  std::optional<std::string> auth_token;
  // PEM files (--tls-certfile / --tls-keyfile): with both, the worker speaks only HTTPS and WSS.
  std::string tls_certfile;
  std::string tls_keyfile;
  // Searched for upscale models besides <data>/models/upscale_models (the bundled models).
  std::vector<std::filesystem::path> extra_upscale_model_dirs;
  // Offers DebugDelay (--enable-test-nodes); off by default because it only wastes time.
  bool enable_test_nodes = false;
  // Multiplies DebugDelay sleeps (--debug-delay-scale) to emulate a slower GPU in benchmarks.
  double debug_delay_scale = 1.0;
};

// Runs the worker until SIGINT/SIGTERM; returns the process exit code.
int run_worker(const worker_options& options);

}  // namespace comfydist::worker
