// ComfyUI's PromptQueue: a heap of pending prompts, the running one, and bounded history.
#include "engine/prompt_queue.hpp"

#include <algorithm>

namespace comfydist::engine {
namespace {

// std heap functions build a max-heap; inverting the order gives heapq's min-heap.
bool heap_order(const queue_item& a, const queue_item& b) {
  return runs_before(b, a);
}

}  // namespace

prompt_queue::prompt_queue(std::size_t max_pending, std::size_t max_history,
                           std::function<void(std::size_t)> on_change)
    : max_pending_(max_pending), max_history_(max_history), on_change_(std::move(on_change)) {}

void prompt_queue::changed(std::unique_lock<std::mutex>& lock) {
  const std::size_t remaining = pending_.size() + (running_ ? 1 : 0);
  lock.unlock();
  if (on_change_) {
    on_change_(remaining);
  }
}

bool prompt_queue::put(queue_item item) {
  std::unique_lock lock(mutex_);
  if (pending_.size() >= max_pending_) {
    return false;
  }
  pending_.push_back(std::move(item));
  std::push_heap(pending_.begin(), pending_.end(), heap_order);
  ready_.notify_one();
  changed(lock);
  return true;
}

std::optional<queue_item> prompt_queue::get() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [this] { return shutdown_ || wake_ || !pending_.empty(); });
  if (shutdown_) {
    return std::nullopt;
  }
  if (wake_) {
    wake_ = false;
    return queue_item{};
  }
  std::pop_heap(pending_.begin(), pending_.end(), heap_order);
  queue_item item = std::move(pending_.back());
  pending_.pop_back();
  running_ = item;
  changed(lock);
  return item;
}

void prompt_queue::wake() {
  const std::lock_guard lock(mutex_);
  wake_ = true;
  ready_.notify_one();
}

void prompt_queue::shutdown() {
  const std::lock_guard lock(mutex_);
  shutdown_ = true;
  ready_.notify_all();
}

void prompt_queue::task_done(const std::string& prompt_id, json history_entry) {
  std::unique_lock lock(mutex_);
  if (running_ && running_->prompt_id == prompt_id) {
    running_.reset();
  }
  history_.push_back(history_record{prompt_id, std::move(history_entry)});
  while (history_.size() > max_history_) {
    history_.pop_front();
  }
  changed(lock);
}

std::size_t prompt_queue::remaining() const {
  const std::lock_guard lock(mutex_);
  return pending_.size() + (running_ ? 1 : 0);
}

std::optional<std::string> prompt_queue::running_prompt_id() const {
  const std::lock_guard lock(mutex_);
  if (!running_) {
    return std::nullopt;
  }
  return running_->prompt_id;
}

json prompt_queue::queue_json() const {
  const std::lock_guard lock(mutex_);
  json running = json::array();
  if (running_) {
    running.push_back(running_->to_json());
  }
  json pending = json::array();
  for (const auto& item : pending_) {
    pending.push_back(item.to_json());
  }
  json out = json::object();
  out["queue_running"] = std::move(running);
  out["queue_pending"] = std::move(pending);
  return out;
}

void prompt_queue::wipe_pending() {
  std::unique_lock lock(mutex_);
  pending_.clear();
  changed(lock);
}

void prompt_queue::delete_pending(const std::vector<std::string>& prompt_ids) {
  std::unique_lock lock(mutex_);
  const auto before = pending_.size();
  std::erase_if(pending_, [&](const queue_item& item) {
    return std::find(prompt_ids.begin(), prompt_ids.end(), item.prompt_id) != prompt_ids.end();
  });
  if (pending_.size() == before) {
    return;
  }
  std::make_heap(pending_.begin(), pending_.end(), heap_order);
  changed(lock);
}

json prompt_queue::history_json(std::optional<std::size_t> max_items,
                                std::optional<long long> offset) const {
  const std::lock_guard lock(mutex_);
  long long start = offset.value_or(-1);
  if (start < 0 && max_items) {
    start = static_cast<long long>(history_.size()) - static_cast<long long>(*max_items);
  }
  start = std::max(start, 0LL);
  json out = json::object();
  long long index = 0;
  std::size_t taken = 0;
  for (const auto& record : history_) {
    if (index++ < start) {
      continue;
    }
    if (max_items && taken >= *max_items) {
      break;
    }
    out[record.prompt_id] = record.entry;
    ++taken;
  }
  return out;
}

json prompt_queue::history_entry_json(const std::string& prompt_id) const {
  const std::lock_guard lock(mutex_);
  json out = json::object();
  for (const auto& record : history_) {
    if (record.prompt_id == prompt_id) {
      out[prompt_id] = record.entry;
    }
  }
  return out;
}

void prompt_queue::wipe_history() {
  const std::lock_guard lock(mutex_);
  history_.clear();
}

void prompt_queue::delete_history(const std::vector<std::string>& prompt_ids) {
  const std::lock_guard lock(mutex_);
  history_.remove_if([&](const history_record& record) {
    return std::find(prompt_ids.begin(), prompt_ids.end(), record.prompt_id) != prompt_ids.end();
  });
}

}  // namespace comfydist::engine
