// Facts about this machine for GET /system_stats: memory and the compute devices.
#pragma once

#include <cstdint>

namespace comfydist::worker {

struct memory_info {
  std::uint64_t total = 0;
  std::uint64_t available = 0;
};

// From /proc/meminfo (MemTotal, MemAvailable); zeros if it cannot be read.
memory_info read_memory_info();

}  // namespace comfydist::worker
