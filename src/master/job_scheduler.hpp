// The scheduler (design.md §4): keeps every job's units, hands a pending unit to a worker whenever
// one of its slots frees (pull), skips workers whose /object_info lacks what a unit needs,
// re-queues units whose worker fails, stalls or goes offline (bounded attempts), drops late
// duplicates, and finishes jobs (done, partial, failed, cancelled) once their units are settled.
// Every change is stored before it is announced; a restarted master resumes unfinished jobs from
// the store.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/json.hpp"
#include "master/config_store.hpp"
#include "master/job_assembler.hpp"
#include "master/job_store.hpp"
#include "master/job_types.hpp"
#include "master/tile_job_planner.hpp"
#include "master/unit_runner.hpp"
#include "master/worker_catalog.hpp"
#include "master/worker_registry.hpp"
#include "net/async_http_client.hpp"

namespace comfydist::master {

// Sends a message to the job's client (empty: every client).
using job_event_sink =
    std::function<void(const std::string& client_id, const std::string& type, const json& data)>;

// A prompt no worker can run, answered as ComfyUI answers an invalid prompt (400).
class prompt_rejected : public std::runtime_error {
 public:
  prompt_rejected(const std::string& message, json body)
      : std::runtime_error(message), body_(std::move(body)) {}
  const json& body() const { return body_; }

 private:
  json body_;
};

struct master_folders {
  std::filesystem::path input_dir;
  std::filesystem::path output_dir;
  std::filesystem::path temp_dir;
};

struct submit_request {
  json prompt;                           // validated against the cluster's nodes
  std::optional<std::string> prompt_id;  // a canonical uuid from the client, or generated
  std::vector<std::string> outputs_to_execute;
  json extra_data = json::object();
  std::string client_id;
  std::optional<int> count;
  std::vector<std::string> worker_ids;  // empty: every enabled worker
  std::optional<double> number;         // ComfyUI's "number" (priority)
  // /distributed/queue: a job with a higher priority is dispatched before any lower one.
  int priority = 0;
  bool front = false;
  // /distributed/queue's `tiles`: tile the prompt's ImageUpscaleWithModel (else only one fed by
  // a DistributedTiles node is tiled).
  std::optional<tile_settings> tiles;
};

struct submit_result {
  std::string prompt_id;
  std::int64_t number = 0;
  int worker_count = 0;
};

class job_scheduler {
 public:
  job_scheduler(job_store& store, config_store& config, worker_registry& registry,
                worker_catalog& catalog, net::async_http_client& http, std::string auth_token,
                const engine::node_registry& master_nodes, master_folders folders,
                job_event_sink emit);
  ~job_scheduler();
  job_scheduler(const job_scheduler&) = delete;
  job_scheduler& operator=(const job_scheduler&) = delete;

  // Loads unfinished jobs (dispatched units go back to pending) and starts scheduling.
  void start();
  void stop();

  // Plans and stores the job. Throws api_error(400) for a bad plan (count, collector) and
  // prompt_rejected when no worker can run it.
  submit_result submit(submit_request request);
  // Throw api_error(404) for an unknown job.
  json job_json(const std::string& id) const;
  json jobs_json(std::size_t limit) const;
  void cancel(const std::string& id);
  int retry_failed(const std::string& id);

  // ComfyUI's views.
  json queue_json() const;  // GET /queue
  std::int64_t queue_remaining() const;
  // POST /queue: cancels queued jobs by id, or all queued jobs.
  void delete_queued(const std::vector<std::string>& ids);
  void clear_queued();
  // POST /interrupt: the given running job, or every running one.
  void interrupt(const std::optional<std::string>& prompt_id);

 private:
  struct unit_runtime {
    std::shared_ptr<unit_run_control> control;
    std::int64_t progress_value = 0;
    std::int64_t progress_max = 0;
    std::set<std::string> failed_on;  // workers it failed on: tried last
    std::optional<std::int64_t> offline_since_ms;
  };
  struct job_runtime {
    job_record job;
    std::vector<unit_record> units;
    std::vector<unit_runtime> live;
    std::map<std::string, std::vector<std::string>> preflight;  // worker id → problems
    bool assembling = false;
    // Tiled jobs: the model's scale, set by the first tile back (tile_size_check).
    std::shared_ptr<std::atomic<int>> tile_scale;
  };
  struct finished_run {
    std::string job_id;
    int unit_index = 0;
    std::string worker_id;
    std::shared_ptr<unit_run_control> control;
    unit_run_result result;
  };

  // A tiled job's input step (on the master's engine, or on a worker when the master lacks one
  // of its nodes), then its tiles and units. Throws api_error(400) when the input step fails or
  // gives no single image.
  job_plan plan_tiled(const std::string& job_id, const json& prompt, const tile_request& tiled,
                      const std::vector<std::string>& eligible);
  // Runs the input step on the least busy online worker that has its nodes (the next one if it
  // fails) and returns its image, a file under temp/.
  std::filesystem::path run_tile_input_on_worker(const std::string& job_id, const json& input,
                                                 const std::vector<std::string>& eligible,
                                                 const std::vector<std::string>& missing);
  // A unit for `worker` with the master's token and folders; the caller adds the unit's index,
  // image check and so on.
  unit_run_request unit_request(const worker_config& worker, const std::string& job_id,
                                const json& prompt, const std::vector<std::string>& collected,
                                int worker_timeout_seconds) const;
  void loop();
  void dispatch_locked(const std::vector<std::pair<worker_config, std::int64_t>>& online);
  void dispatch_unit_locked(job_runtime& runtime, int index, const worker_config& worker);
  void emit_job_locked(const job_runtime& runtime);
  void watch_dispatched_locked(const std::map<std::string, worker_config>& online);
  void settle_locked(finished_run run);
  void maybe_finish_locked(job_runtime& runtime);
  void finish_locked(job_runtime& runtime, job_state state, const std::string& error);
  void on_assembled(const std::string& job_id, const assembly_result& result);
  bool can_run_locked(job_runtime& runtime, const worker_config& worker);
  bool prefetch_pays_locked(const std::string& worker_id,
                            const std::vector<const worker_config*>& workers) const;
  void emit_unit_locked(const job_runtime& runtime, int index);
  void emit_progress_locked(const job_runtime& runtime);
  void emit_status_locked();
  std::vector<std::string> eligible_worker_ids(const std::vector<std::string>& requested) const;

  job_store& store_;
  config_store& config_;
  worker_registry& registry_;
  worker_catalog& catalog_;
  net::async_http_client& http_;
  std::string auth_token_;
  const engine::node_registry& master_nodes_;
  master_folders folders_;
  job_event_sink emit_;
  std::unique_ptr<engine::execution_listener> assembly_listener_;
  std::unique_ptr<job_assembler> assembler_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, job_runtime> active_;  // unfinished jobs
  std::map<std::string, std::shared_ptr<std::atomic<std::int64_t>>> worker_activity_;
  std::map<std::string, int> inflight_;         // worker id → units dispatched there
  std::map<std::string, double> unit_seconds_;  // worker id → typical unit run time (EWMA)
  std::vector<finished_run> finished_;
  int running_threads_ = 0;
  // Refreshed every round: what each online worker offers, and the settings.
  std::map<std::string, std::shared_ptr<const json>> infos_;
  cluster_settings settings_;
  std::int64_t next_number_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace comfydist::master
