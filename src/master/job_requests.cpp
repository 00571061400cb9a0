// What the routes ask of the scheduler: submitting a job (plan, pre-flight, store), the job and
// queue views, cancel, retry, and ComfyUI's queue deletion and interrupt.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/api_error.hpp"
#include "common/clock.hpp"
#include "common/uuid.hpp"
#include "master/job_planner.hpp"
#include "master/job_scheduler.hpp"
#include "master/job_views.hpp"
#include "master/node_catalog.hpp"
#include "master/scheduler_support.hpp"
#include "master/tile_blend.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
using scheduler_detail::join;
using scheduler_detail::unix_now;

std::vector<std::string> job_scheduler::eligible_worker_ids(
    const std::vector<std::string>& requested) const {
  const cluster_config config = config_.snapshot();
  std::vector<std::string> out;
  for (const auto& id : requested) {
    const auto it = std::find_if(config.workers.begin(), config.workers.end(),
                                 [&](const worker_config& w) { return w.id == id; });
    if (it == config.workers.end()) {
      throw api_error(400, "unknown_worker", "no worker with id '" + id + "'");
    }
    if (!it->enabled) {
      throw api_error(400, "worker_disabled", "worker '" + it->name + "' is disabled");
    }
    if (std::find(out.begin(), out.end(), id) == out.end()) {
      out.push_back(id);
    }
  }
  if (requested.empty()) {
    for (const auto& w : config.workers) {
      if (w.enabled) {
        out.push_back(w.id);
      }
    }
  }
  return out;
}

submit_result job_scheduler::submit(submit_request request) {
  const std::vector<std::string> eligible = eligible_worker_ids(request.worker_ids);
  const std::optional<tile_request> tiled = find_tile_request(request.prompt, request.tiles);
  job_plan plan;
  if (!tiled) {
    plan_options options;
    options.count = request.count;
    options.enabled_workers = std::max<int>(1, static_cast<int>(eligible.size()));
    plan = plan_job(request.prompt, options);
  }
  // A tiled job's units exist only after its input step: pre-flight one of them as it will be.
  const json preflight_prompt =
      tiled ? tile_unit_prompt(request.prompt, *tiled, "tile.png") : plan.units.front().prompt;

  // Pre-flight against the workers that are up now: if none of them can run the job, say so.
  json skipped = json::object();
  std::vector<std::string> problems_text;
  int online_eligible = 0;
  int capable = 0;
  for (const auto& [worker, queue] : registry_.online_workers()) {
    if (std::find(eligible.begin(), eligible.end(), worker.id) == eligible.end()) {
      continue;
    }
    ++online_eligible;
    const auto info = catalog_.info(worker);
    if (!info) {
      continue;
    }
    const auto problems = preflight(preflight_prompt, *info);
    if (problems.empty()) {
      ++capable;
    } else {
      skipped[worker.id] = worker.name + ": " + join(problems, "; ");
      problems_text.push_back(skipped[worker.id].get<std::string>());
    }
  }
  if (online_eligible > 0 && capable == 0 && !problems_text.empty()) {
    json error = json::object();
    error["type"] = "no_capable_worker";
    error["message"] = "No worker can run this prompt";
    error["details"] = join(problems_text, "\n");
    error["extra_info"] = json::object({{"workers", skipped}});
    json body = json::object();
    body["error"] = error;
    body["node_errors"] = json::object();
    throw prompt_rejected(error["details"].get<std::string>(), body);
  }

  const std::string job_id = request.prompt_id.value_or(make_uuid4());
  if (tiled) {
    // Run here, before the job exists, so a job is stored with all of its units and a restarted
    // master needs no "input step" phase; the route waits for the input step (the master's
    // cheap upstream nodes, or a worker's generation of the image).
    plan = plan_tiled(job_id, request.prompt, *tiled, eligible);
  }

  const std::lock_guard lock(mutex_);
  job_runtime rt;
  job_record& job = rt.job;
  job.id = job_id;
  if (active_.count(job.id) > 0 || store_.job(job.id)) {
    if (tiled) {
      std::error_code ec;
      fs::remove_all(tile_input_dir(folders_.input_dir, job.id), ec);
    }
    throw api_error(400, "duplicate_prompt_id", "a job with prompt_id '" + job.id + "' exists");
  }
  if (request.number) {
    job.number = static_cast<std::int64_t>(*request.number);
  } else {
    job.number = (request.front ? -next_number_ : next_number_) -
                 static_cast<std::int64_t>(request.priority) * 1000000000;
  }
  ++next_number_;
  job.prompt = std::move(request.prompt);
  job.extra_data = std::move(request.extra_data);
  if (!request.client_id.empty()) {
    job.extra_data["client_id"] = request.client_id;
  }
  job.client_id = request.client_id;
  job.outputs_to_execute = std::move(request.outputs_to_execute);
  job.mode = to_string(plan.mode);
  job.master_prompt = plan.master_prompt;
  job.collector_ids = plan.collector_ids;
  job.worker_ids = request.worker_ids;
  job.max_attempts = config_.snapshot().settings.max_attempts_per_unit;
  job.created_at = unix_now();
  job.skipped_workers = skipped;
  for (auto& unit : plan.units) {
    unit_record record;
    record.job_id = job.id;
    record.index = unit.index;
    record.prompt = std::move(unit.prompt);
    record.collected_outputs = std::move(unit.collected_outputs);
    rt.units.push_back(std::move(record));
  }
  rt.live.resize(rt.units.size());
  store_.insert_job(job, rt.units);
  submit_result result;
  result.prompt_id = job.id;
  result.number = job.number;
  result.worker_count = static_cast<int>(eligible.size());
  spdlog::info("event=job_queued job={} mode={} units={}", job.id, job.mode, rt.units.size());
  active_.emplace(job.id, std::move(rt));
  emit_status_locked();
  wake_.notify_all();
  return result;
}

json job_scheduler::job_json(const std::string& id) const {
  {
    const std::lock_guard lock(mutex_);
    const auto it = active_.find(id);
    if (it != active_.end()) {
      std::vector<unit_progress> progress;
      for (const auto& live : it->second.live) {
        progress.push_back(unit_progress{live.progress_value, live.progress_max});
      }
      return job_to_json(it->second.job, it->second.units, progress);
    }
  }
  const auto job = store_.job(id);
  if (!job) {
    throw api_error(404, "not_found", "no job '" + id + "'");
  }
  return job_to_json(*job, store_.units(id), {});
}

json job_scheduler::jobs_json(std::size_t limit) const {
  json list = json::array();
  for (const auto& stored : store_.jobs(limit)) {
    {
      const std::lock_guard lock(mutex_);
      const auto it = active_.find(stored.id);
      if (it != active_.end()) {
        list.push_back(job_summary_json(it->second.job, it->second.units));
        continue;
      }
    }
    list.push_back(job_summary_json(stored, store_.units(stored.id)));
  }
  json out = json::object();
  out["jobs"] = list;
  out["total"] = store_.count_jobs();
  return out;
}

void job_scheduler::cancel(const std::string& id) {
  const std::lock_guard lock(mutex_);
  const auto it = active_.find(id);
  if (it == active_.end()) {
    const auto job = store_.job(id);
    if (!job) {
      throw api_error(404, "not_found", "no job '" + id + "'");
    }
    throw api_error(409, "job_finished", "the job is already " + to_string(job->state));
  }
  job_runtime& rt = it->second;
  const double now = unix_now();
  for (std::size_t i = 0; i < rt.units.size(); ++i) {
    unit_record& unit = rt.units[i];
    if (unit.state == unit_state::dispatched && rt.live[i].control) {
      rt.live[i].control->abort("the job was cancelled");
    }
    if (unit.state == unit_state::pending || unit.state == unit_state::dispatched) {
      unit.state = unit_state::failed;
      unit.finished_at = now;
      unit.errors.push_back(unit_error{unit.worker_id, unit.worker_name, "cancelled", now});
      store_.update_unit(unit);
    }
  }
  assembler_->interrupt(id);
  finish_locked(rt, job_state::cancelled, "cancelled");
}

int job_scheduler::retry_failed(const std::string& id) {
  const std::lock_guard lock(mutex_);
  if (active_.count(id) > 0) {
    throw api_error(409, "job_running", "the job is still running");
  }
  auto job = store_.job(id);
  if (!job) {
    throw api_error(404, "not_found", "no job '" + id + "'");
  }
  job_runtime rt;
  rt.units = store_.units(id);
  int requeued = 0;
  for (auto& unit : rt.units) {
    if (unit.state == unit_state::failed) {
      unit.state = unit_state::pending;
      unit.attempts = 0;
      unit.finished_at = 0;
      store_.update_unit(unit);
      ++requeued;
    }
  }
  if (requeued == 0) {
    throw api_error(409, "nothing_to_retry", "the job has no failed units");
  }
  rt.live.resize(rt.units.size());
  rt.job = std::move(*job);
  rt.job.state = job_state::running;
  rt.job.finished_at = 0;
  rt.job.error.clear();
  rt.job.outputs = json::object();
  store_.update_job(rt.job);
  emit_job_locked(rt);
  active_.emplace(id, std::move(rt));
  wake_.notify_all();
  return requeued;
}

json job_scheduler::queue_json() const {
  const std::lock_guard lock(mutex_);
  std::vector<const job_record*> running;
  std::vector<const job_record*> pending;
  for (const auto& [id, rt] : active_) {
    (rt.job.state == job_state::queued ? pending : running).push_back(&rt.job);
  }
  const auto by_number = [](const job_record* a, const job_record* b) {
    return a->number < b->number;
  };
  std::sort(running.begin(), running.end(), by_number);
  std::sort(pending.begin(), pending.end(), by_number);
  json out = json::object();
  out["queue_running"] = json::array();
  out["queue_pending"] = json::array();
  for (const auto* job : running) {
    out["queue_running"].push_back(queue_entry(*job));
  }
  for (const auto* job : pending) {
    out["queue_pending"].push_back(queue_entry(*job));
  }
  return out;
}

std::int64_t job_scheduler::queue_remaining() const {
  const std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(active_.size());
}

void job_scheduler::delete_queued(const std::vector<std::string>& ids) {
  std::vector<std::string> targets;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& id : ids) {
      const auto it = active_.find(id);
      if (it != active_.end() && it->second.job.state == job_state::queued) {
        targets.push_back(id);
      }
    }
  }
  for (const auto& id : targets) {
    try {
      cancel(id);
    } catch (const api_error&) {
      // It started or ended meanwhile.
    }
  }
}

void job_scheduler::clear_queued() {
  std::vector<std::string> ids;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [id, rt] : active_) {
      ids.push_back(id);
    }
  }
  delete_queued(ids);
}

void job_scheduler::interrupt(const std::optional<std::string>& prompt_id) {
  std::vector<std::string> targets;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [id, rt] : active_) {
      if (rt.job.state == job_state::running && (!prompt_id || *prompt_id == id)) {
        targets.push_back(id);
      }
    }
  }
  for (const auto& id : targets) {
    try {
      cancel(id);
    } catch (const api_error&) {
      // Ended meanwhile.
    }
  }
}

}  // namespace comfydist::master
