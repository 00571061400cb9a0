// The pending/running prompts and the history of finished ones (ComfyUI's PromptQueue), with a
// cap on both. Thread-safe; get() blocks the execution thread until work arrives or shutdown.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "engine/queue_item.hpp"

namespace comfydist::engine {

struct history_record {
  std::string prompt_id;
  json entry;  // {prompt, outputs, status, meta}
};

class prompt_queue {
 public:
  // `on_change` is called (outside the lock) after every change of the queue size, with the new
  // queue_remaining; the worker broadcasts a status message from it.
  prompt_queue(std::size_t max_pending, std::size_t max_history,
               std::function<void(std::size_t)> on_change);

  // Returns false when the pending list is full.
  bool put(queue_item item);
  // Blocks until an item is available (it becomes running) or shutdown() was called. After
  // wake(), returns one item with an empty prompt_id that is neither pending nor running.
  std::optional<queue_item> get();
  void wake();
  void shutdown();

  void task_done(const std::string& prompt_id, json history_entry);

  // queue_remaining: pending + running.
  std::size_t remaining() const;
  json queue_json() const;  // {"queue_running": [...], "queue_pending": [...]}
  std::optional<std::string> running_prompt_id() const;
  void wipe_pending();
  void delete_pending(const std::vector<std::string>& prompt_ids);

  json history_json(std::optional<std::size_t> max_items, std::optional<long long> offset) const;
  json history_entry_json(const std::string& prompt_id) const;
  void wipe_history();
  void delete_history(const std::vector<std::string>& prompt_ids);

 private:
  void changed(std::unique_lock<std::mutex>& lock);

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::size_t max_pending_;
  std::size_t max_history_;
  std::function<void(std::size_t)> on_change_;
  std::vector<queue_item> pending_;  // binary heap ordered by runs_before
  std::optional<queue_item> running_;
  std::list<history_record> history_;  // completion order
  bool shutdown_ = false;
  bool wake_ = false;
};

}  // namespace comfydist::engine
