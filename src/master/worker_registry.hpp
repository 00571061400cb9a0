// The workers the master may use, with their runtime state: supervises local worker processes
// (launch, stop, crash restarts with backoff, launch timeout), probes every enabled worker, and
// reports every state change. One supervisor thread owns process start-up; probes complete on the
// probe implementation's thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/json.hpp"
#include "master/config_store.hpp"
#include "master/launch_command.hpp"
#include "master/worker_probe.hpp"
#include "master/worker_runtime.hpp"

namespace comfydist::master {

struct registry_timing {
  std::chrono::milliseconds tick{100};
  std::chrono::seconds launch_timeout{90};
  std::chrono::seconds stop_grace{10};
  std::chrono::seconds stats_interval{60};
  int failures_before_offline = 2;
  int max_restarts = 5;
  std::chrono::minutes restart_window{10};
  bool auto_launch = true;  // false with `serve --no-auto-launch`
};

class worker_registry {
 public:
  // `on_change` receives the worker's JSON (as in GET /distributed/workers) after each state
  // change; it runs without the registry's lock held.
  worker_registry(config_store& store, launch_context launch, worker_probe& probe,
                  std::function<void(const json&)> on_change, registry_timing timing = {});
  ~worker_registry();
  worker_registry(const worker_registry&) = delete;
  worker_registry& operator=(const worker_registry&) = delete;

  // Adopts workers recorded by an earlier master that are still alive, then starts supervising.
  void start();
  // Stops supervising; with `stop_workers`, stops every local worker (SIGTERM, grace, SIGKILL).
  void shutdown(bool stop_workers);

  json workers_json() const;
  json worker_json(const std::string& id) const;  // throws api_error 404

  // Throw api_error: 404 unknown id, 400 not a local worker / disabled, 409 already running.
  void launch(const std::string& id);
  void stop(const std::string& id);
  std::vector<std::string> log_tail(const std::string& id, std::size_t lines) const;

  // The worker ids whose state is idle or busy, with their queue depth.
  std::vector<std::pair<worker_config, std::int64_t>> online_workers() const;

 private:
  struct event {
    std::string id;
  };
  void run();
  void tick(std::vector<std::string>& changed);
  void supervise_local(const worker_config& worker, const cluster_settings& settings,
                       worker_runtime& rt, steady_time now, std::vector<std::string>& changed);
  void maybe_probe(const worker_config& worker, double probe_interval_seconds, worker_runtime& rt,
                   steady_time now);
  void on_probe(const std::string& id, const probe_result& result);
  void start_process(const worker_config& worker, const cluster_settings& settings,
                     worker_runtime& rt, std::vector<std::string>& changed);
  void set_state(const std::string& id, worker_runtime& rt, worker_state state,
                 const std::string& reason, std::vector<std::string>& changed);
  json runtime_json_locked(const worker_config& worker) const;
  void emit(const std::vector<std::string>& ids);
  void save_pids_locked() const;
  std::string log_reason(const worker_config& worker, const std::string& what) const;

  config_store& store_;
  launch_context launch_;
  worker_probe& probe_;
  std::function<void(const json&)> on_change_;
  registry_timing timing_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, worker_runtime> runtime_;
  std::map<std::string, bool> launch_requests_;  // id → requested by the API
  std::map<std::string, bool> stop_requests_;
  // Processes of deleted workers: reaped when they exit, SIGKILLed after the stop grace.
  std::vector<std::pair<child_process, steady_time>> retired_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace comfydist::master
