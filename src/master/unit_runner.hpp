// Runs one unit on one worker over the stock ComfyUI API (design.md §4): uploads the input images
// the unit needs (named by content hash, so nothing is sent twice), queues the prompt, follows it
// on the worker's WebSocket with /history polling as the fallback, downloads every output with
// /view, checks it decodes, and writes it under the master's folders. Blocking: the scheduler runs
// each unit on a thread of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "master/cluster_config.hpp"
#include "master/job_types.hpp"
#include "net/async_http_client.hpp"

namespace comfydist::master {

struct unit_run_request {
  worker_config worker;
  std::string auth_token;
  std::string job_id;
  int unit_index = 0;
  json prompt;
  std::vector<std::string> collected_outputs;
  std::filesystem::path input_dir;  // the master's folders
  std::filesystem::path output_dir;
  std::filesystem::path temp_dir;
  std::chrono::seconds no_progress_timeout{60};
  std::size_t max_file_bytes = std::size_t{512} << 20;
  // Called with every returned image's node and size once it decoded; throwing fails the unit
  // with that message (a tiled job's tile of the wrong size). Empty: no check.
  std::function<void(const std::string& node_id, int width, int height)> check_image;
};

// Shared by the scheduler and the thread running the unit.
class unit_run_control {
 public:
  // Asks the runner to stop: it cancels the prompt on the worker and returns `reason` as its error.
  void abort(const std::string& reason);
  bool aborted() const { return aborted_.load(); }
  std::string abort_reason() const;

  // Progress of this unit's prompt (value, max), from the worker's WebSocket.
  std::function<void(std::int64_t, std::int64_t)> on_progress;
  // The worker accepted the prompt under this id.
  std::function<void(const std::string&)> on_queued;
  // When the worker last showed progress on anything (milliseconds, steady clock): a unit waiting
  // behind another one on the same worker is not stalled while the worker is busy.
  std::shared_ptr<std::atomic<std::int64_t>> worker_activity;

 private:
  std::atomic<bool> aborted_{false};
  mutable std::mutex mutex_;
  std::string reason_;
};

struct unit_run_result {
  bool ok = false;
  std::string error;  // when !ok
  std::string remote_prompt_id;
  std::vector<unit_output> outputs;
  // How long the prompt ran on the worker (from its execution_start, else from queueing): the
  // scheduler learns each worker's speed from it.
  double run_seconds = 0;
};

unit_run_result run_unit(net::async_http_client& http, const unit_run_request& request,
                         unit_run_control& control);

// Milliseconds on the steady clock (for unit_run_control::worker_activity).
std::int64_t steady_millis();

}  // namespace comfydist::master
