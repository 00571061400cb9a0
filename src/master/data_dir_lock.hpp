// One master per data dir: an exclusive lock held for the life of the process, so a second master
// pointed at the same folder refuses to start instead of corrupting the config and job store.
#pragma once

#include <filesystem>

namespace comfydist::master {

class data_dir_lock {
 public:
  // Throws std::runtime_error naming the folder (and the holder's pid when known) if another
  // process holds the lock.
  explicit data_dir_lock(const std::filesystem::path& data_dir);
  ~data_dir_lock();
  data_dir_lock(const data_dir_lock&) = delete;
  data_dir_lock& operator=(const data_dir_lock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace comfydist::master
