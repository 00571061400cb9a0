// Node outputs cached across prompts by cache key (class + resolved inputs + ancestry), with a
// memory budget and least-recently-used eviction. Thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/json.hpp"
#include "engine/node_value.hpp"

namespace comfydist::engine {

struct cached_output {
  std::vector<node_value> outputs;
  json ui;  // null when the node returned no ui
  std::size_t byte_size = 0;
};

class output_cache {
 public:
  explicit output_cache(std::size_t max_bytes, std::size_t max_entries = 4096)
      : max_bytes_(max_bytes), max_entries_(max_entries) {}

  std::shared_ptr<const cached_output> find(const std::string& key);
  bool contains(const std::string& key) const;
  void store(const std::string& key, std::shared_ptr<const cached_output> value);
  void clear();
  std::size_t size() const;
  std::size_t bytes() const;

 private:
  void evict_locked();

  struct slot {
    std::shared_ptr<const cached_output> value;
    std::list<std::string>::iterator position;
  };
  mutable std::mutex mutex_;
  std::size_t max_bytes_;
  std::size_t max_entries_;
  std::size_t bytes_ = 0;
  std::list<std::string> recency_;  // most recent first
  std::unordered_map<std::string, slot> entries_;
};

}  // namespace comfydist::engine
