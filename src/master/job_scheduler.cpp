// Scheduling, retries and job completion. One thread makes every decision; units run on threads of
// their own and report back through `finished_`.
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
#include "master/tile_blend.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
namespace {

double unix_now() {
  return static_cast<double>(now_ms()) / 1000.0;
}

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

void delete_outputs(const master_folders& folders, const std::vector<unit_output>& outputs) {
  for (const auto& out : outputs) {
    const fs::path base = out.type == "output" ? folders.output_dir : folders.temp_dir;
    std::error_code ec;
    fs::remove(base / out.subfolder / out.filename, ec);
  }
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& p : parts) {
    out += (out.empty() ? "" : separator) + p;
  }
  return out;
}

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

job_plan job_scheduler::plan_tiled(const std::string& job_id, const json& prompt,
                                   const tile_request& tiled) {
  assembly_request input;
  // Its own prompt id: clients following the job must not read the input step's end as the
  // job's.
  input.job_id = "tiles-input-" + job_id;
  input.master_prompt = tile_input_prompt(prompt, tiled);
  const assembly_result ran = assembler_->run_now(std::move(input));
  if (!ran.ok) {
    throw api_error(
        400, "tile_input_failed",
        "the nodes before the tiled ImageUpscaleWithModel failed on the master: " + ran.error);
  }
  const json images = ran.outputs.contains(kTileInputNode)
                          ? ran.outputs[kTileInputNode].value("images", json())
                          : json();
  if (!images.is_array() || images.size() != 1) {
    throw api_error(400, "invalid_tiles",
                    "a tiled upscale takes one image; its input is a batch of " +
                        std::to_string(images.is_array() ? images.size() : 0));
  }
  const fs::path file = folders_.temp_dir / images[0].value("subfolder", std::string()) /
                        images[0].value("filename", std::string());
  image::pixel_image pixels = image::decode_image(read_file(file)).image;
  std::error_code ec;
  fs::remove(file, ec);
  tiled_plan tiles = plan_tiled_job(prompt, tiled, pixels, folders_.input_dir, job_id);
  job_plan plan;
  plan.mode = distribution_mode::tiles;
  plan.units = std::move(tiles.units);
  plan.master_prompt = std::move(tiles.master_prompt);
  plan.collector_ids = {tiled.upscale_id};
  spdlog::info("event=tiles_planned job={} image={}x{} tiles={} tile={} overlap={}", job_id,
               pixels.width, pixels.height, plan.units.size(), tiled.settings.tile,
               tiled.settings.overlap);
  return plan;
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
    // master needs no "input step" phase; the route waits for the master's cheap upstream nodes.
    plan = plan_tiled(job_id, request.prompt, *tiled);
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

  unit_run_request request;
  request.worker = worker;
  request.auth_token = auth_token_;
  request.job_id = job_id;
  request.unit_index = index;
  request.prompt = unit.prompt;
  request.collected_outputs = unit.collected_outputs;
  request.input_dir = folders_.input_dir;
  request.output_dir = folders_.output_dir;
  request.temp_dir = folders_.temp_dir;
  request.no_progress_timeout = std::chrono::seconds(std::max(1, settings_.worker_timeout_seconds));
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

void job_scheduler::maybe_finish_locked(job_runtime& rt) {
  if (rt.assembling || is_finished(rt.job.state)) {
    return;
  }
  std::size_t done = 0;
  std::size_t failed = 0;
  for (const auto& unit : rt.units) {
    if (unit.state == unit_state::pending || unit.state == unit_state::dispatched) {
      return;
    }
    (unit.state == unit_state::done ? done : failed) += 1;
  }
  std::string failure;
  if (failed > 0) {
    std::vector<std::string> reasons;
    for (const auto& unit : rt.units) {
      if (unit.state == unit_state::failed) {
        reasons.push_back(
            "unit " + std::to_string(unit.index) + ": " +
            (unit.errors.empty() ? std::string("failed") : unit.errors.back().message));
      }
    }
    failure = std::to_string(failed) + " of " + std::to_string(rt.units.size()) +
              " units failed after " + std::to_string(rt.job.max_attempts) + " attempts (" +
              join(reasons, "; ") + ")";
  }
  if (done == 0) {
    finish_locked(rt, job_state::failed, failure);
    return;
  }
  const json spec = tile_spec_of(rt.job.mode, rt.job.master_prompt, rt.job.collector_ids);
  if (!spec.is_null() && failed > 0) {
    // Without every tile there is no picture to blend: the job shows the tiles that came back
    // (below) and ends partial with the reasons.
    failure = "the image cannot be blended without all of its tiles: " + failure;
  } else if (!spec.is_null()) {
    assembly_request request;
    request.job_id = rt.job.id;
    request.number = rt.job.number;
    request.master_prompt = rt.job.master_prompt;
    request.extra_data = rt.job.extra_data;
    tile_blend_request blend;
    blend.job_id = rt.job.id;
    blend.spec = spec;
    if (rt.tile_scale && *rt.tile_scale > 0) {
      blend.spec["scale"] = rt.tile_scale->load();
    }
    blend.temp_dir = folders_.temp_dir;
    for (const auto& unit : rt.units) {
      for (const auto& out : unit.outputs) {
        if (out.node_id == kTilePreviewNode) {
          blend.tile_files.push_back(out.subfolder + "/" + out.filename);
          break;
        }
      }
    }
    request.tiles = std::move(blend);
    rt.assembling = true;
    const std::string id = rt.job.id;
    assembler_->submit(std::move(request),
                       [this, id](const assembly_result& result) { on_assembled(id, result); });
    return;
  }
  if (spec.is_null() && !rt.job.collector_ids.empty() && !rt.job.master_prompt.empty()) {
    assembly_request request;
    request.job_id = rt.job.id;
    request.number = rt.job.number;
    request.master_prompt = rt.job.master_prompt;
    request.extra_data = rt.job.extra_data;
    for (const auto& collector : rt.job.collector_ids) {
      auto& files = request.collected[collector];
      for (const auto& unit : rt.units) {
        for (const auto& out : unit.outputs) {
          if (out.node_id == collector) {
            files.push_back(out.subfolder + "/" + out.filename);
          }
        }
      }
    }
    rt.assembling = true;
    const std::string id = rt.job.id;
    assembler_->submit(std::move(request),
                       [this, id](const assembly_result& result) { on_assembled(id, result); });
    return;
  }
  json outputs = json::object();
  for (const auto& unit : rt.units) {
    for (const auto& out : unit.outputs) {
      json image = json::object();
      image["filename"] = out.filename;
      image["subfolder"] = out.subfolder;
      image["type"] = out.type;
      if (!outputs.contains(out.node_id)) {
        outputs[out.node_id] = json::object({{"images", json::array()}});
      }
      outputs[out.node_id]["images"].push_back(image);
    }
  }
  rt.job.outputs = outputs;
  for (const auto& [node, ui] : outputs.items()) {
    json data = json::object();
    data["node"] = node;
    data["display_node"] = node;
    data["output"] = ui;
    data["prompt_id"] = rt.job.id;
    emit_(rt.job.client_id, "executed", data);
  }
  finish_locked(rt, failed > 0 ? job_state::partial : job_state::done, failure);
}

void job_scheduler::on_assembled(const std::string& job_id, const assembly_result& result) {
  const std::lock_guard lock(mutex_);
  const auto it = active_.find(job_id);
  if (it == active_.end()) {
    return;
  }
  job_runtime& rt = it->second;
  rt.assembling = false;
  bool any_failed = false;
  for (const auto& unit : rt.units) {
    any_failed = any_failed || unit.state == unit_state::failed;
  }
  if (!result.ok) {
    finish_locked(rt, job_state::failed, result.error);
    return;
  }
  rt.job.outputs = result.outputs;
  std::string failure;
  if (any_failed) {
    failure = "some units failed; the collector got the images of the others";
    for (const auto& unit : rt.units) {
      if (unit.state == unit_state::failed && !unit.errors.empty()) {
        failure += "; unit " + std::to_string(unit.index) + ": " + unit.errors.back().message;
      }
    }
  }
  finish_locked(rt, any_failed ? job_state::partial : job_state::done, failure);
}

void job_scheduler::finish_locked(job_runtime& rt, job_state state, const std::string& error) {
  job_record& job = rt.job;
  job.state = state;
  job.finished_at = unix_now();
  job.error = error;
  json data = json::object();
  data["prompt_id"] = job.id;
  data["timestamp"] = now_ms();
  std::string type = "execution_success";
  if (state == job_state::failed) {
    type = "execution_error";
    data["node_id"] = job.collector_ids.empty() ? json(nullptr) : json(job.collector_ids.front());
    data["node_type"] = job.collector_ids.empty() ? json(nullptr)
                        : job.mode == "tiles"     ? json("ImageUpscaleWithModel")
                                                  : json("DistributedCollector");
    data["executed"] = json::array();
    data["exception_message"] = error;
    data["exception_type"] = "comfydist.JobFailed";
    data["traceback"] = json::array();
    data["current_inputs"] = json::object();
    data["current_outputs"] = json::object();
  } else if (state == job_state::cancelled) {
    type = "execution_interrupted";
    data["node_id"] = nullptr;
    data["node_type"] = nullptr;
    data["executed"] = json::array();
  } else if (state == job_state::partial) {
    data["partial"] = true;
    data["error"] = error;
  }
  job.messages.push_back(json::array({type, data}));
  store_.update_job(job);
  emit_(job.client_id, type, data);
  emit_job_locked(rt);
  json done = json::object();
  done["node"] = nullptr;
  done["prompt_id"] = job.id;
  emit_(job.client_id, "executing", done);
  if (job.mode == "tiles") {
    // The blend's scratch goes whatever the end; the cut tiles and the tiles brought back stay
    // for a retry of a job that did not finish, and the tiles are what a partial job shows.
    std::error_code ec;
    fs::remove_all(tile_job_dir(folders_.temp_dir, job.id), ec);
    if (state == job_state::done) {
      fs::remove_all(tile_input_dir(folders_.input_dir, job.id), ec);
      fs::remove_all(folders_.temp_dir / "collected" / job.id, ec);
    }
  }
  spdlog::info("event=job_finished job={} state={} error=\"{}\"", job.id, to_string(state), error);
  const std::string id = job.id;
  active_.erase(id);
  emit_status_locked();
}

void job_scheduler::emit_unit_locked(const job_runtime& rt, int index) {
  const auto i = static_cast<std::size_t>(index);
  json data =
      unit_to_json(rt.units[i], unit_progress{rt.live[i].progress_value, rt.live[i].progress_max});
  data.erase("outputs");
  data["prompt_id"] = rt.job.id;
  data["unit"] = index;
  data["units"] = rt.units.size();
  emit_("", "distributed_unit", data);
}

void job_scheduler::emit_job_locked(const job_runtime& rt) {
  json data = job_summary_json(rt.job, rt.units);
  data["prompt_id"] = rt.job.id;
  emit_("", "distributed_job", data);
}

void job_scheduler::emit_progress_locked(const job_runtime& rt) {
  std::int64_t value = 0;
  for (std::size_t i = 0; i < rt.units.size(); ++i) {
    if (rt.units[i].state == unit_state::done) {
      value += 100;
    } else if (rt.units[i].state == unit_state::dispatched && rt.live[i].progress_max > 0) {
      value += 100 * rt.live[i].progress_value / rt.live[i].progress_max;
    }
  }
  json data = json::object();
  data["value"] = value;
  data["max"] = static_cast<std::int64_t>(100 * rt.units.size());
  data["prompt_id"] = rt.job.id;
  data["node"] = rt.job.collector_ids.empty() ? json(nullptr) : json(rt.job.collector_ids.front());
  emit_(rt.job.client_id, "progress", data);
}

void job_scheduler::emit_status_locked() {
  json exec = json::object();
  exec["queue_remaining"] = active_.size();
  json status = json::object();
  status["exec_info"] = exec;
  json data = json::object();
  data["status"] = status;
  emit_("", "status", data);
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
