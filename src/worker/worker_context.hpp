// Everything a native worker's routes share: settings, the engine objects and the client hub.
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>

#include "common/task_pool.hpp"
#include "engine/execution_loop.hpp"
#include "engine/executor.hpp"
#include "engine/node_registry.hpp"
#include "engine/output_cache.hpp"
#include "engine/prompt_queue.hpp"
#include "worker/client_hub.hpp"
#include "worker/worker_options.hpp"

namespace comfydist::worker {

struct worker_context {
  worker_options options;
  engine::node_environment environment;
  engine::node_registry registry;
  client_hub hub;
  std::unique_ptr<engine::output_cache> cache;
  std::unique_ptr<engine::prompt_queue> queue;
  std::unique_ptr<engine::executor> executor;
  std::unique_ptr<engine::execution_loop> loop;
  std::unique_ptr<task_pool> pool;
  // ComfyUI's server-side prompt counter.
  std::atomic<std::int64_t> next_number{0};
  // Upload de-duplication and renaming must see a stable folder.
  std::mutex upload_mutex;

  std::size_t max_upload_bytes() const {
    return static_cast<std::size_t>(std::llround(options.max_upload_size_mb * 1024.0 * 1024.0));
  }
};

}  // namespace comfydist::worker
