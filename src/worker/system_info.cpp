// Reading /proc/meminfo.
#include "worker/system_info.hpp"

#include <fstream>
#include <string>

namespace comfydist::worker {

memory_info read_memory_info() {
  memory_info info;
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t value = 0;
  std::string unit;
  while (in >> key >> value >> unit) {
    if (key == "MemTotal:") {
      info.total = value * 1024;
    } else if (key == "MemAvailable:") {
      info.available = value * 1024;
    }
  }
  return info;
}

}  // namespace comfydist::worker
