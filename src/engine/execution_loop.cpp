// The execution thread.
#include "engine/execution_loop.hpp"

#include <spdlog/spdlog.h>

namespace comfydist::engine {

execution_loop::execution_loop(prompt_queue& queue, executor& runner, execution_listener& listener)
    : queue_(queue), executor_(runner), listener_(listener) {}

execution_loop::~execution_loop() {
  stop();
}

void execution_loop::start() {
  thread_ = std::thread([this] { loop(); });
}

void execution_loop::stop() {
  executor_.interrupt();
  queue_.shutdown();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void execution_loop::request_free(bool unload_models, bool free_memory) {
  if (!unload_models && !free_memory) {
    return;
  }
  if (free_memory) {
    free_memory_.store(true);
  }
  free_requested_.store(true);
  // Idle: nothing to wait for. The flag is also checked after every prompt, so a request that
  // races with a starting prompt is applied when that prompt ends.
  if (!queue_.running_prompt_id()) {
    queue_.wake();
  }
}

void execution_loop::apply_free() {
  if (!free_requested_.exchange(false)) {
    return;
  }
  // Loaded models live in the output cache (loader node outputs), so unloading them and freeing
  // memory both mean dropping cached outputs and node instances.
  free_memory_.store(false);
  executor_.reset();
  spdlog::info("event=free caches=cleared");
}

void execution_loop::loop() {
  for (;;) {
    auto item = queue_.get();
    if (!item) {
      return;
    }
    if (item->prompt_id.empty()) {
      apply_free();  // a wake-up, not a prompt
      continue;
    }
    const auto started = std::chrono::steady_clock::now();
    execution_outcome outcome;
    try {
      outcome = executor_.execute(*item);
    } catch (const std::exception& ex) {
      // The executor turns node failures into execution_error itself; reaching here is a bug in
      // the engine, reported as an error entry so the queue keeps going.
      spdlog::error("prompt={} event=executor_failure error=\"{}\"", item->prompt_id, ex.what());
      outcome.success = false;
    }
    json history = json::object();
    history["prompt"] = item->to_json();
    history["outputs"] = outcome.outputs;
    json status = json::object();
    status["status_str"] = outcome.success ? "success" : "error";
    status["completed"] = outcome.success;
    status["messages"] = outcome.messages;
    history["status"] = status;
    history["meta"] = outcome.meta;
    queue_.task_done(item->prompt_id, std::move(history));

    std::optional<std::string> client;
    if (item->extra_data.contains("client_id") && item->extra_data["client_id"].is_string()) {
      client = item->extra_data["client_id"].get<std::string>();
    }
    json done = json::object();
    done["node"] = nullptr;
    done["prompt_id"] = item->prompt_id;
    listener_.on_event("executing", done, client, false);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    spdlog::info("prompt={} event=done status={} ms={}", item->prompt_id,
                 outcome.success ? "success" : "error", ms);
    apply_free();
  }
}

}  // namespace comfydist::engine
