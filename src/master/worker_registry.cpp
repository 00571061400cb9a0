// Supervision of local workers and probing of all workers.
#include "master/worker_registry.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "common/api_error.hpp"
#include "common/file_io.hpp"
#include "master/worker_logs.hpp"

namespace comfydist::master {
namespace {

// Whether something already listens on the loopback port (a program the master does not own).
bool port_in_use(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool busy = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0;
  ::close(fd);
  return busy;
}

const worker_config* find_worker(const cluster_config& config, const std::string& id) {
  for (const auto& w : config.workers) {
    if (w.id == id) {
      return &w;
    }
  }
  return nullptr;
}

}  // namespace

worker_registry::worker_registry(config_store& store, launch_context launch, worker_probe& probe,
                                 std::function<void(const json&)> on_change, registry_timing timing)
    : store_(store),
      launch_(std::move(launch)),
      probe_(probe),
      on_change_(std::move(on_change)),
      timing_(timing) {}

worker_registry::~worker_registry() {
  shutdown(false);
}

void worker_registry::start() {
  {
    const std::lock_guard lock(mutex_);
    std::error_code ec;
    if (!launch_.pid_file.empty() && std::filesystem::exists(launch_.pid_file, ec)) {
      try {
        const json recorded = json::parse(read_file(launch_.pid_file));
        const cluster_config config = store_.snapshot();
        for (const auto& [id, entry] : recorded.items()) {
          const pid_t pid = entry.value("pid", -1);
          const worker_config* worker = find_worker(config, id);
          if (worker != nullptr && process_alive(pid) && entry.value("port", 0) == worker->port) {
            worker_runtime& rt = runtime_[id];
            rt.adopted_pid = pid;
            rt.state = worker_state::launching;
            rt.launched_at = std::chrono::steady_clock::now();
            rt.auto_launch_done = true;
            spdlog::info("worker={} event=adopted pid={} port={}", id, pid, worker->port);
          }
        }
      } catch (const std::exception& e) {
        spdlog::warn("event=pid_file_unreadable path={} error=\"{}\"", launch_.pid_file.string(),
                     e.what());
      }
    }
  }
  thread_ = std::thread([this] { run(); });
}

void worker_registry::shutdown(bool stop_workers) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) {
      return;
    }
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (!stop_workers) {
    return;
  }
  std::unique_lock lock(mutex_);
  for (auto& [id, rt] : runtime_) {
    if (rt.process && rt.process->running()) {
      rt.process->signal_group(SIGTERM);
    } else if (rt.adopted_pid > 0) {
      ::kill(rt.adopted_pid, SIGTERM);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + timing_.stop_grace;
  for (auto& [id, rt] : runtime_) {
    while (rt.process && !rt.process->poll() && std::chrono::steady_clock::now() < deadline) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      lock.lock();
    }
    if (rt.process && !rt.process->poll()) {
      rt.process->signal_group(SIGKILL);
      while (!rt.process->poll()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }
  for (auto& [process, since] : retired_) {
    if (!process.poll()) {
      process.signal_group(SIGKILL);
    }
  }
  runtime_.clear();
  save_pids_locked();
}

void worker_registry::run() {
  for (;;) {
    std::vector<std::string> changed;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, timing_.tick, [this] { return stopping_; });
      if (stopping_) {
        return;
      }
      tick(changed);
    }
    emit(changed);
  }
}

void worker_registry::tick(std::vector<std::string>& changed) {
  const cluster_config config = store_.snapshot();
  const auto now = std::chrono::steady_clock::now();
  // Forget workers that were deleted; stop their processes.
  for (auto it = runtime_.begin(); it != runtime_.end();) {
    if (find_worker(config, it->first) == nullptr) {
      if (it->second.process && it->second.process->running()) {
        it->second.process->signal_group(SIGTERM);
        retired_.emplace_back(std::move(*it->second.process), now);
      }
      it = runtime_.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(retired_, [&](std::pair<child_process, steady_time>& retired) {
    if (retired.first.poll()) {
      return true;
    }
    if (now - retired.second > timing_.stop_grace) {
      retired.first.signal_group(SIGKILL);
    }
    return false;
  });
  for (const auto& worker : config.workers) {
    const bool is_new = runtime_.find(worker.id) == runtime_.end();
    worker_runtime& rt = runtime_[worker.id];
    if (is_new) {
      rt.state = worker.type == worker_type::local ? worker_state::stopped : worker_state::offline;
      changed.push_back(worker.id);
    }
    if (worker.type == worker_type::local) {
      supervise_local(worker, config.settings, rt, now, changed);
    } else if (!worker.enabled) {
      set_state(worker.id, rt, worker_state::disabled, "", changed);
    } else if (rt.state == worker_state::disabled) {
      set_state(worker.id, rt, worker_state::offline, "", changed);
    }
    maybe_probe(worker, config.settings.probe_interval_seconds, rt, now);
  }
}

void worker_registry::supervise_local(const worker_config& worker, const cluster_settings& settings,
                                      worker_runtime& rt, steady_time now,
                                      std::vector<std::string>& changed) {
  const std::string& id = worker.id;
  if (rt.process) {
    if (const auto status = rt.process->poll()) {
      const std::string how = child_process::describe_exit(*status);
      rt.process.reset();
      if (rt.state == worker_state::stopping || stop_requests_.count(id) > 0) {
        stop_requests_.erase(id);
        set_state(id, rt, worker.enabled ? worker_state::stopped : worker_state::disabled, "",
                  changed);
      } else {
        const bool was_healthy = rt.healthy_since_launch;
        set_state(id, rt, worker_state::crashed, log_reason(worker, "the worker " + how), changed);
        while (!rt.restarts.empty() && now - rt.restarts.front() > timing_.restart_window) {
          rt.restarts.pop_front();
        }
        if (was_healthy && static_cast<int>(rt.restarts.size()) < timing_.max_restarts) {
          rt.restart_at = now + std::chrono::seconds(1 << rt.restarts.size());
        } else if (was_healthy) {
          rt.last_error += " (not restarted: " + std::to_string(timing_.max_restarts) +
                           " restarts within " + std::to_string(timing_.restart_window.count()) +
                           " minutes)";
        }
      }
      save_pids_locked();
    }
  } else if (rt.adopted_pid > 0 && !process_alive(rt.adopted_pid)) {
    rt.adopted_pid = -1;
    set_state(id, rt, worker_state::crashed, "the adopted worker process ended", changed);
  }

  if (!worker.enabled) {
    if (rt.process && rt.process->running() && rt.state != worker_state::stopping) {
      rt.process->signal_group(SIGTERM);
      rt.stop_requested_at = now;
      set_state(id, rt, worker_state::stopping, "", changed);
    } else if (!rt.process) {
      set_state(id, rt, worker_state::disabled, "", changed);
    }
  } else if (rt.state == worker_state::disabled) {
    set_state(id, rt, worker_state::stopped, "", changed);
  }

  if (rt.state == worker_state::stopping && rt.process && rt.process->running() &&
      now - rt.stop_requested_at > timing_.stop_grace) {
    rt.process->signal_group(SIGKILL);
  }
  if (rt.state == worker_state::launching && now - rt.launched_at > timing_.launch_timeout) {
    if (rt.process) {
      rt.process->signal_group(SIGKILL);
      stop_requests_[id] = true;  // its exit is ours, not a crash
    }
    set_state(id, rt, worker_state::crashed,
              log_reason(worker, "the worker did not answer within " +
                                     std::to_string(timing_.launch_timeout.count()) + " s"),
              changed);
    rt.restart_at.reset();
  }

  const bool wants_launch =
      launch_requests_.erase(id) > 0 ||
      (timing_.auto_launch && settings.auto_launch_workers && !rt.auto_launch_done) ||
      (rt.restart_at && now >= *rt.restart_at);
  if (wants_launch && worker.enabled && !rt.process && rt.adopted_pid <= 0 &&
      (rt.state == worker_state::stopped || rt.state == worker_state::crashed)) {
    if (rt.restart_at) {
      rt.restarts.push_back(now);
    }
    rt.restart_at.reset();
    rt.auto_launch_done = true;
    start_process(worker, settings, rt, changed);
  }
  rt.auto_launch_done = true;
}

void worker_registry::start_process(const worker_config& worker, const cluster_settings& settings,
                                    worker_runtime& rt, std::vector<std::string>& changed) {
  if (port_in_use(worker.port)) {
    set_state(worker.id, rt, worker_state::crashed,
              "port " + std::to_string(worker.port) +
                  " is already in use by another program; stop it or give this worker another port",
              changed);
    return;
  }
  try {
    rt.process = child_process::spawn(make_launch_spec(worker, settings, launch_));
  } catch (const std::exception& e) {
    set_state(worker.id, rt, worker_state::crashed, std::string("cannot launch: ") + e.what(),
              changed);
    return;
  }
  rt.launched_at = std::chrono::steady_clock::now();
  rt.healthy_since_launch = false;
  rt.consecutive_failures = 0;
  rt.next_probe = rt.launched_at + std::chrono::milliseconds(200);
  spdlog::info("worker={} event=launched pid={} port={}", worker.id, rt.process->pid(),
               worker.port);
  set_state(worker.id, rt, worker_state::launching, "", changed);
  save_pids_locked();
}

void worker_registry::maybe_probe(const worker_config& worker, double probe_interval_seconds,
                                  worker_runtime& rt, steady_time now) {
  const bool probe_state = rt.state == worker_state::launching || rt.state == worker_state::idle ||
                           rt.state == worker_state::busy || rt.state == worker_state::offline;
  if (!probe_state || rt.probe_in_flight || now < rt.next_probe) {
    return;
  }
  if (worker.type == worker_type::local && rt.state == worker_state::offline && !rt.process &&
      rt.adopted_pid <= 0) {
    return;
  }
  const auto period = std::chrono::milliseconds(static_cast<long>(probe_interval_seconds * 1000));
  // While launching, probe often so "idle" shows up quickly.
  rt.next_probe =
      now + (rt.state == worker_state::launching ? std::min(period, std::chrono::milliseconds(250))
                                                 : period);
  const bool with_stats = rt.system_stats.is_null() || now - rt.last_stats > timing_.stats_interval;
  if (with_stats) {
    rt.last_stats = now;
  }
  rt.probe_in_flight = true;
  const std::string id = worker.id;
  probe_.probe(worker, with_stats,
               [this, id](const probe_result& result) { on_probe(id, result); });
}

void worker_registry::on_probe(const std::string& id, const probe_result& result) {
  std::vector<std::string> changed;
  {
    const std::lock_guard lock(mutex_);
    const auto it = runtime_.find(id);
    if (it == runtime_.end() || stopping_) {
      return;
    }
    worker_runtime& rt = it->second;
    rt.probe_in_flight = false;
    if (rt.state != worker_state::launching && rt.state != worker_state::idle &&
        rt.state != worker_state::busy && rt.state != worker_state::offline) {
      return;
    }
    if (result.ok) {
      rt.consecutive_failures = 0;
      rt.queue_remaining = result.queue_remaining;
      if (result.system_stats) {
        rt.system_stats = *result.system_stats;
      }
      rt.healthy_since_launch = true;
      set_state(id, rt, result.queue_remaining > 0 ? worker_state::busy : worker_state::idle, "",
                changed);
    } else {
      ++rt.consecutive_failures;
      if (rt.state == worker_state::launching) {
        rt.last_error = result.error;  // still starting: not yet a failure
      } else if (rt.consecutive_failures >= timing_.failures_before_offline) {
        set_state(id, rt, worker_state::offline, result.error, changed);
      }
    }
  }
  emit(changed);
}

void worker_registry::set_state(const std::string& id, worker_runtime& rt, worker_state state,
                                const std::string& reason, std::vector<std::string>& changed) {
  if (rt.state == state && rt.last_error == reason) {
    return;
  }
  if (rt.state != state) {
    spdlog::info("worker={} event=state from={} to={}{}", id, to_string(rt.state), to_string(state),
                 reason.empty() ? "" : " reason=\"" + reason + "\"");
  }
  rt.state = state;
  if (!reason.empty() || is_online(state) || state == worker_state::stopped) {
    rt.last_error = reason;
  }
  changed.push_back(id);
}

std::string worker_registry::log_reason(const worker_config& worker,
                                        const std::string& what) const {
  const auto lines = tail_lines(worker_log_path(launch_.logs_dir, worker.name), 5);
  std::string reason = what;
  if (!lines.empty()) {
    reason += "; last log lines:";
    for (const auto& line : lines) {
      reason += "\n" + line;
    }
  }
  return reason;
}

json worker_registry::runtime_json_locked(const worker_config& worker) const {
  json out = to_json(worker);
  const auto it = runtime_.find(worker.id);
  const worker_runtime* rt = it == runtime_.end() ? nullptr : &it->second;
  const worker_state state =
      rt != nullptr
          ? rt->state
          : (!worker.enabled ? worker_state::disabled
                             : (worker.type == worker_type::local ? worker_state::stopped
                                                                  : worker_state::offline));
  out["state"] = to_string(state);
  out["queue_remaining"] = rt != nullptr ? rt->queue_remaining : 0;
  out["last_error"] =
      rt != nullptr && !rt->last_error.empty() ? json(rt->last_error) : json(nullptr);
  const pid_t pid = rt != nullptr ? rt->pid() : -1;
  out["pid"] = pid > 0 ? json(pid) : json(nullptr);
  json devices = json::array();
  json system = nullptr;
  if (rt != nullptr && rt->system_stats.is_object()) {
    devices = rt->system_stats.value("devices", json::array());
    system = rt->system_stats.value("system", json(nullptr));
  }
  out["devices"] = devices;
  out["system"] = system;
  out["url"] = worker_base_url(worker);
  return out;
}

json worker_registry::workers_json() const {
  const cluster_config config = store_.snapshot();
  const std::lock_guard lock(mutex_);
  json workers = json::array();
  for (const auto& w : config.workers) {
    workers.push_back(runtime_json_locked(w));
  }
  return workers;
}

json worker_registry::worker_json(const std::string& id) const {
  const cluster_config config = store_.snapshot();
  const worker_config* worker = find_worker(config, id);
  if (worker == nullptr) {
    throw api_error(404, "worker_not_found", "no worker with id '" + id + "'");
  }
  const std::lock_guard lock(mutex_);
  return runtime_json_locked(*worker);
}

void worker_registry::launch(const std::string& id) {
  const cluster_config config = store_.snapshot();
  const worker_config* worker = find_worker(config, id);
  if (worker == nullptr) {
    throw api_error(404, "worker_not_found", "no worker with id '" + id + "'");
  }
  if (worker->type != worker_type::local) {
    throw api_error(400, "not_local",
                    "'" + worker->name + "' is a " + to_string(worker->type) +
                        " worker; its owner starts it on its own machine");
  }
  if (!worker->enabled) {
    throw api_error(400, "worker_disabled", "'" + worker->name + "' is disabled; enable it first");
  }
  std::vector<std::string> changed;
  {
    const std::lock_guard lock(mutex_);
    worker_runtime& rt = runtime_[id];
    if ((rt.process && rt.process->running()) || rt.adopted_pid > 0) {
      throw api_error(409, "already_running",
                      "'" + worker->name + "' is already " + to_string(rt.state));
    }
    if (port_in_use(worker->port)) {
      throw api_error(409, "port_in_use",
                      "port " + std::to_string(worker->port) +
                          " is already in use by another program; stop it or change the port");
    }
    rt.restart_at.reset();
    rt.restarts.clear();
    if (rt.state != worker_state::stopped && rt.state != worker_state::crashed) {
      set_state(id, rt, worker_state::stopped, "", changed);
    }
    start_process(*worker, config.settings, rt, changed);
  }
  emit(changed);
}

void worker_registry::stop(const std::string& id) {
  const cluster_config config = store_.snapshot();
  const worker_config* worker = find_worker(config, id);
  if (worker == nullptr) {
    throw api_error(404, "worker_not_found", "no worker with id '" + id + "'");
  }
  if (worker->type != worker_type::local) {
    throw api_error(400, "not_local", "'" + worker->name + "' is not a local worker");
  }
  std::vector<std::string> changed;
  {
    const std::lock_guard lock(mutex_);
    worker_runtime& rt = runtime_[id];
    rt.restart_at.reset();
    if (rt.process && rt.process->running()) {
      stop_requests_[id] = true;
      rt.process->signal_group(SIGTERM);
      rt.stop_requested_at = std::chrono::steady_clock::now();
      set_state(id, rt, worker_state::stopping, "", changed);
    } else if (rt.adopted_pid > 0) {
      ::kill(rt.adopted_pid, SIGTERM);
      rt.adopted_pid = -1;
      set_state(id, rt, worker_state::stopped, "", changed);
    } else {
      throw api_error(409, "not_running", "'" + worker->name + "' is not running");
    }
  }
  emit(changed);
}

std::vector<std::string> worker_registry::log_tail(const std::string& id, std::size_t lines) const {
  const cluster_config config = store_.snapshot();
  const worker_config* worker = find_worker(config, id);
  if (worker == nullptr) {
    throw api_error(404, "worker_not_found", "no worker with id '" + id + "'");
  }
  if (worker->type != worker_type::local) {
    throw api_error(404, "log_not_available",
                    "logs of " + to_string(worker->type) +
                        " workers are kept on their own machine; the master cannot read them");
  }
  return tail_lines(worker_log_path(launch_.logs_dir, worker->name), lines);
}

std::vector<std::pair<worker_config, std::int64_t>> worker_registry::online_workers() const {
  const cluster_config config = store_.snapshot();
  const std::lock_guard lock(mutex_);
  std::vector<std::pair<worker_config, std::int64_t>> out;
  for (const auto& w : config.workers) {
    const auto it = runtime_.find(w.id);
    if (w.enabled && it != runtime_.end() && is_online(it->second.state)) {
      out.emplace_back(w, it->second.queue_remaining);
    }
  }
  return out;
}

void worker_registry::emit(const std::vector<std::string>& ids) {
  if (!on_change_ || ids.empty()) {
    return;
  }
  for (const auto& id : ids) {
    try {
      on_change_(worker_json(id));
    } catch (const api_error&) {
      // deleted meanwhile
    }
  }
}

void worker_registry::save_pids_locked() const {
  if (launch_.pid_file.empty()) {
    return;
  }
  const cluster_config config = store_.snapshot();
  json recorded = json::object();
  for (const auto& [id, rt] : runtime_) {
    const pid_t pid = rt.pid();
    const worker_config* worker = find_worker(config, id);
    if (pid > 0 && worker != nullptr) {
      json entry = json::object();
      entry["pid"] = pid;
      entry["port"] = worker->port;
      recorded[id] = entry;
    }
  }
  try {
    std::filesystem::create_directories(launch_.pid_file.parent_path());
    write_file_atomic(launch_.pid_file, recorded.dump(2));
  } catch (const std::exception& e) {
    spdlog::warn("event=pid_file_write_failed error=\"{}\"", e.what());
  }
}

}  // namespace comfydist::master
