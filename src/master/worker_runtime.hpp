// What the master knows about one worker while it runs: state, reason, process, probe results.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "common/json.hpp"
#include "master/child_process.hpp"
#include "master/worker_state.hpp"

namespace comfydist::master {

using steady_time = std::chrono::steady_clock::time_point;

struct worker_runtime {
  worker_state state = worker_state::stopped;
  std::string last_error;
  std::int64_t queue_remaining = 0;
  json system_stats;  // last /system_stats answer, or null
  int consecutive_failures = 0;
  bool probe_in_flight = false;
  steady_time next_probe{};
  steady_time last_stats{};
  // Local workers.
  std::optional<child_process> process;
  pid_t adopted_pid = -1;  // a worker left running by an earlier master
  bool healthy_since_launch = false;
  steady_time launched_at{};
  steady_time stop_requested_at{};
  std::optional<steady_time> restart_at;
  std::deque<steady_time> restarts;  // within the last 10 minutes
  bool auto_launch_done = false;

  pid_t pid() const {
    if (process && process->running()) {
      return process->pid();
    }
    return adopted_pid;
  }
};

}  // namespace comfydist::master
