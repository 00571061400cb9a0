// flock on <data>/run/master.lock, with the holder's pid written inside.
#include "master/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace comfydist::master {

data_dir_lock::data_dir_lock(const std::filesystem::path& data_dir) {
  const auto dir = data_dir / "run";
  std::filesystem::create_directories(dir);
  const auto file = dir / "master.lock";
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open '" + file.string() + "': " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = {};
    [[maybe_unused]] const auto n = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("another comfydist master (pid " + std::string(holder) +
                             ") is already using the data folder " + data_dir.string() +
                             "; stop it or give this one another --data-dir");
  }
  const std::string pid = std::to_string(::getpid());
  [[maybe_unused]] const auto t = ::ftruncate(fd_, 0);
  [[maybe_unused]] const auto w = ::pwrite(fd_, pid.data(), pid.size(), 0);
}

data_dir_lock::~data_dir_lock() {
  if (fd_ >= 0) {
    ::close(fd_);  // releases the lock
  }
}

}  // namespace comfydist::master
