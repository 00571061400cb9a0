// comfydist.json on disk: loaded once, changed through validated transactions, written
// atomically. A corrupt file is moved aside and reported, never silently overwritten.
#pragma once

#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "master/cluster_config.hpp"

namespace comfydist::master {

class config_store {
 public:
  explicit config_store(std::filesystem::path file);

  // Reads the file (defaults when it does not exist). A file that is not valid JSON, or whose
  // values are of the wrong kind, is renamed to "<file>.corrupt-<time>" and the defaults are used;
  // load_problem() then says what happened, with the path and line.
  void load();

  cluster_config snapshot() const;
  // Runs `change` on a copy, validates the result and writes it; on a validation error
  // (config_error) nothing changes.
  cluster_config update(const std::function<void(cluster_config&)>& change);

  std::optional<std::string> load_problem() const;
  const std::filesystem::path& path() const { return file_; }

 private:
  void write_locked(const cluster_config& config);

  std::filesystem::path file_;
  mutable std::mutex mutex_;
  cluster_config config_;
  std::optional<std::string> load_problem_;
};

}  // namespace comfydist::master
