// LRU cache of node outputs bounded by bytes and entries.
#include "engine/output_cache.hpp"

namespace comfydist::engine {

std::shared_ptr<const cached_output> output_cache::find(const std::string& key) {
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) {
    return nullptr;
  }
  recency_.splice(recency_.begin(), recency_, it->second.position);
  return it->second.value;
}

bool output_cache::contains(const std::string& key) const {
  const std::lock_guard lock(mutex_);
  return entries_.count(key) > 0;
}

void output_cache::store(const std::string& key, std::shared_ptr<const cached_output> value) {
  const std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(key); it != entries_.end()) {
    bytes_ -= it->second.value->byte_size;
    recency_.erase(it->second.position);
    entries_.erase(it);
  }
  // An entry bigger than the whole budget is not kept: it would evict everything and itself.
  if (value->byte_size > max_bytes_) {
    return;
  }
  recency_.push_front(key);
  bytes_ += value->byte_size;
  entries_.emplace(key, slot{std::move(value), recency_.begin()});
  evict_locked();
}

void output_cache::evict_locked() {
  while ((bytes_ > max_bytes_ || entries_.size() > max_entries_) && !recency_.empty()) {
    const auto it = entries_.find(recency_.back());
    bytes_ -= it->second.value->byte_size;
    entries_.erase(it);
    recency_.pop_back();
  }
}

void output_cache::clear() {
  const std::lock_guard lock(mutex_);
  entries_.clear();
  recency_.clear();
  bytes_ = 0;
}

std::size_t output_cache::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t output_cache::bytes() const {
  const std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace comfydist::engine
