// Wall-clock milliseconds since the epoch, as ComfyUI's int(time.time()*1000).
#pragma once

#include <chrono>
#include <cstdint>

namespace comfydist {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace comfydist
