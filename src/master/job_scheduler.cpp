// The scheduler's core: start and stop, the decision loop, dispatch (pre-flight, slots, the tail
// rule), watching dispatched units and settling their results. One thread makes every decision;
// units run on threads of their own and report back through `finished_`. Job completion is in
// job_completion.cpp, the requests from routes in job_requests.cpp.
#include "master/job_scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/api_error.hpp"
#include "common/clock.hpp"
#include "common/file_io.hpp"
#include "common/uuid.hpp"
#include "image/codecs.hpp"
#include "master/job_planner.hpp"
#include "master/job_views.hpp"
#include "master/scheduler_support.hpp"
#include "master/tile_blend.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
using scheduler_detail::delete_outputs;
using scheduler_detail::join;
using scheduler_detail::unix_now;
namespace {

// The assembler's executor speaks for the job; the scheduler alone starts and ends it.
class assembly_event_forwarder : public engine::execution_listener {
 public:
  explicit assembly_event_forwarder(job_event_sink& emit) : emit_(emit) {}
  void on_event(const std::string& type, const json& data,
                const std::optional<std::string>& client_id, bool broadcast_if_no_client) override {
    if (type == "execution_start" || type == "execution_success" || type == "execution_error" ||
        type == "execution_interrupted" || type == "status") {
      return;
    }
    if (!client_id && !broadcast_if_no_client) {
      return;
    }
    emit_(client_id.value_or(""), type, data);
  }

 private:
  job_event_sink& emit_;
};

}  // namespace

job_scheduler::job_scheduler(job_store& store, config_store& config, worker_registry& registry,
                             worker_catalog& catalog, net::async_http_client& http,
                             std::string auth_token, const engine::node_registry& master_nodes,
                             master_folders folders, job_event_sink emit)
    : store_(store),
      config_(config),
      registry_(registry),
      catalog_(catalog),
      http_(http),
      auth_token_(std::move(auth_token)),
      master_nodes_(master_nodes),
      folders_(std::move(folders)),
      emit_(std::move(emit)) {
  assembly_listener_ = std::make_unique<assembly_event_forwarder>(emit_);
  engine::node_environment environment;
  environment.input_dir = folders_.input_dir;
  environment.output_dir = folders_.output_dir;
  environment.temp_dir = folders_.temp_dir;
  environment.threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  assembler_ = std::make_unique<job_assembler>(master_nodes, environment, *assembly_listener_);
}

job_scheduler::~job_scheduler() {
  stop();
}

void job_scheduler::start() {
  {
    const std::lock_guard lock(mutex_);
    next_number_ = store_.max_number() + 1;
    for (auto& job : store_.unfinished_jobs()) {
      job_runtime rt;
      rt.units = store_.units(job.id);
      rt.live.resize(rt.units.size());
      rt.job = std::move(job);
      for (auto& unit : rt.units) {
        if (unit.state == unit_state::dispatched) {
          // Its runner died with the previous master: run it again, without counting that.
          unit.state = unit_state::pending;
          unit.attempts = std::max(0, unit.attempts - 1);
          store_.update_unit(unit);
        }
      }
      spdlog::info("event=job_resumed job={} units={}", rt.job.id, rt.units.size());
      const std::string id = rt.job.id;
      active_.emplace(id, std::move(rt));
    }
    std::vector<std::string> ids;
    for (const auto& [id, rt] : active_) {
      ids.push_back(id);
    }
    for (const auto& id : ids) {
      const auto it = active_.find(id);
      if (it != active_.end()) {
        maybe_finish_locked(it->second);
      }
    }
  }
  thread_ = std::thread([this] { loop(); });
}

void job_scheduler::stop() {
  {
    std::unique_lock lock(mutex_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
    // Runs in flight stop where they are; their units stay dispatched in the store, and the next
    // start re-queues them.
    for (auto& [id, rt] : active_) {
      for (auto& live : rt.live) {
        if (live.control) {
          live.control->abort("the master is stopping");
        }
      }
    }
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  assembler_->stop();
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] { return running_threads_ == 0; });
}

void job_scheduler::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto runs = std::move(finished_);
    finished_.clear();
    for (auto& run : runs) {
      settle_locked(std::move(run));
    }
    lock.unlock();
    const auto online = registry_.online_workers();
    // Node lists are fetched (or read from the cache) without the lock: a slow worker must not
    // hold up the routes.
    std::map<std::string, std::shared_ptr<const json>> infos;
    for (const auto& [worker, queue] : online) {
      infos[worker.id] = catalog_.info(worker);
    }
    const cluster_settings settings = config_.snapshot().settings;
    lock.lock();
    if (stopping_) {
      break;
    }
    std::map<std::string, worker_config> online_map;
    for (const auto& [worker, queue] : online) {
      online_map[worker.id] = worker;
    }
    watch_dispatched_locked(online_map);
    infos_ = std::move(infos);
    settings_ = settings;
    dispatch_locked(online);
    wake_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

bool job_scheduler::can_run_locked(job_runtime& rt, const worker_config& worker) {
  if (!rt.job.worker_ids.empty() && std::find(rt.job.worker_ids.begin(), rt.job.worker_ids.end(),
                                              worker.id) == rt.job.worker_ids.end()) {
    return false;
  }
  auto cached = rt.preflight.find(worker.id);
  if (cached == rt.preflight.end()) {
    const auto info = infos_.find(worker.id);
    if (info == infos_.end() || !info->second) {
      return false;  // not known yet: asked again next round
    }
    auto problems = preflight(rt.units.front().prompt, *info->second);
    if (!problems.empty()) {
      rt.job.skipped_workers[worker.id] = worker.name + ": " + join(problems, "; ");
      store_.update_job(rt.job);
      spdlog::info("event=worker_skipped job={} worker={} why=\"{}\"", rt.job.id, worker.name,
                   join(problems, "; "));
    }
    cached = rt.preflight.emplace(worker.id, std::move(problems)).first;
  }
  return cached->second.empty();
}

void job_scheduler::dispatch_locked(
    const std::vector<std::pair<worker_config, std::int64_t>>& online) {
  const int slots = std::max(1, settings_.max_inflight_per_worker);
  std::vector<job_runtime*> jobs;
  for (auto& [id, rt] : active_) {
    if (!rt.assembling) {
      jobs.push_back(&rt);
    }
  }
  std::sort(jobs.begin(), jobs.end(), [](const job_runtime* a, const job_runtime* b) {
    return a->job.number != b->job.number ? a->job.number < b->job.number
                                          : a->job.created_at < b->job.created_at;
  });
  std::vector<const worker_config*> workers;
  workers.reserve(online.size());
  for (const auto& [worker, queue] : online) {
    workers.push_back(&worker);
  }
  for (;;) {
    // The least busy worker with a free slot takes the next unit it can run.
    std::stable_sort(workers.begin(), workers.end(), [this](const auto* a, const auto* b) {
      return inflight_[a->id] < inflight_[b->id];
    });
    bool dispatched = false;
    for (const worker_config* worker : workers) {
      if (inflight_[worker->id] >= slots ||
          (inflight_[worker->id] > 0 && !prefetch_pays_locked(worker->id, workers))) {
        continue;
      }
      for (job_runtime* rt : jobs) {
        if (!can_run_locked(*rt, *worker)) {
          continue;
        }
        int capable = 0;
        for (const worker_config* other : workers) {
          const auto it = rt->preflight.find(other->id);
          capable += it != rt->preflight.end() && it->second.empty() ? 1 : 0;
        }
        for (auto& unit : rt->units) {
          if (unit.state != unit_state::pending) {
            continue;
          }
          const auto& failed_on = rt->live[static_cast<std::size_t>(unit.index)].failed_on;
          // A retry goes elsewhere while another capable worker has not failed it yet.
          if (failed_on.count(worker->id) > 0 && static_cast<int>(failed_on.size()) < capable) {
            continue;
          }
          dispatch_unit_locked(*rt, unit.index, *worker);
          dispatched = true;
          break;
        }
        if (dispatched) {
          break;
        }
      }
      if (dispatched) {
        break;
      }
    }
    if (!dispatched) {
      return;
    }
  }
}

// A unit queued behind a running one on a slow worker can end up finishing long after a fast
// worker could have done it: near the end of the work, a worker only takes a second unit when the
// whole cluster would still be busy for longer than that unit would take there.
bool job_scheduler::prefetch_pays_locked(const std::string& worker_id,
                                         const std::vector<const worker_config*>& workers) const {
  const auto own = unit_seconds_.find(worker_id);
  if (own == unit_seconds_.end()) {
    return true;  // nothing learnt yet
  }
  double rate = 0;  // units per second of the workers with an estimate
  for (const worker_config* w : workers) {
    const auto it = unit_seconds_.find(w->id);
    if (it != unit_seconds_.end() && it->second > 0) {
      rate += 1.0 / it->second;
    }
  }
  std::size_t waiting = 0;
  for (const auto& [id, rt] : active_) {
    for (const auto& unit : rt.units) {
      waiting += unit.state == unit_state::pending || unit.state == unit_state::dispatched ? 1 : 0;
    }
  }
  if (rate <= 0) {
    return true;
  }
  const double drain_seconds = static_cast<double>(waiting) / rate;
  // This unit would start once the running one ends (on average half-way) and then take as long.
  return drain_seconds >= 1.5 * own->second;
}

unit_run_request job_scheduler::unit_request(const worker_config& worker, const std::string& job_id,
                                             const json& prompt,
                                             const std::vector<std::string>& collected,
                                             int worker_timeout_seconds) const {
  unit_run_request request;
  request.worker = worker;
  request.auth_token = auth_token_;
  request.job_id = job_id;
  request.prompt = prompt;
  request.collected_outputs = collected;
  request.input_dir = folders_.input_dir;
  request.output_dir = folders_.output_dir;
  request.temp_dir = folders_.temp_dir;
  request.no_progress_timeout = std::chrono::seconds(std::max(1, worker_timeout_seconds));
  return request;
}

void job_scheduler::dispatch_unit_locked(job_runtime& rt, int index, const worker_config& worker) {
  unit_record& unit = rt.units[static_cast<std::size_t>(index)];
  unit_runtime& live = rt.live[static_cast<std::size_t>(index)];
  const double now = unix_now();
  unit.state = unit_state::dispatched;
  unit.worker_id = worker.id;
  unit.worker_name = worker.name;
  unit.remote_prompt_id.clear();
  unit.attempts += 1;
  unit.started_at = now;
  unit.finished_at = 0;
  if (rt.job.state == job_state::queued) {
    rt.job.state = job_state::running;
    rt.job.started_at = now;
    json data = json::object();
    data["prompt_id"] = rt.job.id;
    data["timestamp"] = now_ms();
    rt.job.messages.push_back(json::array({"execution_start", data}));
    emit_(rt.job.client_id, "execution_start", data);
    emit_job_locked(rt);
  }
  store_.update_unit_and_job(unit, rt.job);

  auto control = std::make_shared<unit_run_control>();
  auto& activity = worker_activity_[worker.id];
  if (!activity) {
    activity = std::make_shared<std::atomic<std::int64_t>>(0);
  }
  control->worker_activity = activity;
  const std::string job_id = rt.job.id;
  std::weak_ptr<unit_run_control> weak = control;
  control->on_progress = [this, job_id, index, weak](std::int64_t value, std::int64_t max) {
    const std::lock_guard lock(mutex_);
    const auto it = active_.find(job_id);
    const auto self = weak.lock();
    if (it == active_.end() || !self ||
        it->second.live[static_cast<std::size_t>(index)].control != self) {
      return;
    }
    auto& l = it->second.live[static_cast<std::size_t>(index)];
    l.progress_value = value;
    l.progress_max = max;
    emit_unit_locked(it->second, index);
    emit_progress_locked(it->second);
  };
  control->on_queued = [this, job_id, index, weak](const std::string& remote_id) {
    const std::lock_guard lock(mutex_);
    const auto it = active_.find(job_id);
    const auto self = weak.lock();
    if (it == active_.end() || !self ||
        it->second.live[static_cast<std::size_t>(index)].control != self) {
      return;
    }
    auto& u = it->second.units[static_cast<std::size_t>(index)];
    u.remote_prompt_id = remote_id;
    store_.update_unit(u);
  };
  live.control = control;
  live.progress_value = 0;
  live.progress_max = 0;
  live.offline_since_ms.reset();
  inflight_[worker.id] += 1;

  unit_run_request request = unit_request(worker, job_id, unit.prompt, unit.collected_outputs,
                                          settings_.worker_timeout_seconds);
  request.unit_index = index;
  const json spec = tile_spec_of(rt.job.mode, rt.job.master_prompt, rt.job.collector_ids);
  if (!spec.is_null()) {
    if (!rt.tile_scale) {
      rt.tile_scale = std::make_shared<std::atomic<int>>(spec.value("scale", 0));
    }
    request.check_image = tile_size_check(spec, rt.tile_scale);
  }
  ++running_threads_;
  std::thread([this, request = std::move(request), control]() {
    unit_run_result result = run_unit(http_, request, *control);
    {
      const std::lock_guard lock(mutex_);
      finished_.push_back(finished_run{request.job_id, request.unit_index, request.worker.id,
                                       control, std::move(result)});
      --running_threads_;
    }
    wake_.notify_all();
  }).detach();
  spdlog::info("event=unit_dispatched job={} unit={} worker={} attempt={}", job_id, index,
               worker.name, unit.attempts);
  emit_unit_locked(rt, index);
}

void job_scheduler::watch_dispatched_locked(const std::map<std::string, worker_config>& online) {
  const std::int64_t now = steady_millis();
  for (auto& [id, rt] : active_) {
    for (std::size_t i = 0; i < rt.units.size(); ++i) {
      auto& live = rt.live[i];
      if (rt.units[i].state != unit_state::dispatched || !live.control) {
        continue;
      }
      if (online.count(rt.units[i].worker_id) > 0) {
        live.offline_since_ms.reset();
        continue;
      }
      if (!live.offline_since_ms) {
        live.offline_since_ms = now;
      }
      std::string why = "worker " + rt.units[i].worker_name + " went offline";
      try {
        const json w = registry_.worker_json(rt.units[i].worker_id);
        const std::string detail = w.value("last_error", std::string());
        if (!detail.empty()) {
          why += " (" + detail + ")";
        }
      } catch (const std::exception&) {
        why = "worker " + rt.units[i].worker_name + " was removed";
      }
      live.control->abort(why);
    }
  }
}

void job_scheduler::settle_locked(finished_run run) {
  inflight_[run.worker_id] = std::max(0, inflight_[run.worker_id] - 1);
  const auto it = active_.find(run.job_id);
  if (it == active_.end()) {
    // The job ended meanwhile (cancelled): nothing of this run is kept.
    delete_outputs(folders_, run.result.outputs);
    return;
  }
  job_runtime& rt = it->second;
  const auto index = static_cast<std::size_t>(run.unit_index);
  unit_record& unit = rt.units[index];
  unit_runtime& live = rt.live[index];
  if (live.control != run.control || unit.state != unit_state::dispatched) {
    spdlog::info("event=late_result_dropped job={} unit={} worker={}", run.job_id, run.unit_index,
                 run.worker_id);
    delete_outputs(folders_, run.result.outputs);
    return;
  }
  live.control.reset();
  const double now = unix_now();
  if (run.result.ok) {
    if (run.result.run_seconds > 0) {
      auto [estimate, fresh] = unit_seconds_.try_emplace(run.worker_id, run.result.run_seconds);
      if (!fresh) {
        estimate->second = 0.7 * estimate->second + 0.3 * run.result.run_seconds;
      }
    }
    unit.state = unit_state::done;
    unit.finished_at = now;
    unit.outputs = std::move(run.result.outputs);
    unit.remote_prompt_id = run.result.remote_prompt_id;
    spdlog::info("event=unit_done job={} unit={} worker={}", rt.job.id, unit.index,
                 unit.worker_name);
  } else {
    unit.errors.push_back(unit_error{unit.worker_id, unit.worker_name, run.result.error, now});
    live.failed_on.insert(unit.worker_id);
    if (unit.attempts >= rt.job.max_attempts) {
      unit.state = unit_state::failed;
      unit.finished_at = now;
    } else {
      unit.state = unit_state::pending;
    }
    spdlog::warn("event=unit_failed job={} unit={} worker={} attempt={} final={} error=\"{}\"",
                 rt.job.id, unit.index, unit.worker_name, unit.attempts,
                 unit.state == unit_state::failed, run.result.error);
  }
  store_.update_unit(unit);
  emit_unit_locked(rt, unit.index);
  emit_progress_locked(rt);
  maybe_finish_locked(rt);
}

}  // namespace comfydist::master
