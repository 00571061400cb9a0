// ComfyUI's prompt worker loop: one thread takes prompts from the queue, runs them, records the
// history entry, sends the end-of-prompt marker and applies pending /free requests.
#pragma once

#include <atomic>
#include <thread>

#include "engine/executor.hpp"
#include "engine/prompt_queue.hpp"

namespace comfydist::engine {

class execution_loop {
 public:
  execution_loop(prompt_queue& queue, executor& runner, execution_listener& listener);
  ~execution_loop();
  execution_loop(const execution_loop&) = delete;
  execution_loop& operator=(const execution_loop&) = delete;

  void start();
  // Interrupts the running prompt, stops taking new ones and joins the thread.
  void stop();

  // POST /free: applied after the running prompt, or at once when idle.
  void request_free(bool unload_models, bool free_memory);

 private:
  void loop();
  void apply_free();

  prompt_queue& queue_;
  executor& executor_;
  execution_listener& listener_;
  std::atomic<bool> free_requested_{false};
  std::atomic<bool> free_memory_{false};
  std::thread thread_;
};

}  // namespace comfydist::engine
