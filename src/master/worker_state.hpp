// The runtime states of a worker (design.md §2) and their names on the wire.
#pragma once

#include <string>

namespace comfydist::master {

enum class worker_state { disabled, stopped, launching, idle, busy, offline, crashed, stopping };

inline std::string to_string(worker_state state) {
  switch (state) {
    case worker_state::disabled:
      return "disabled";
    case worker_state::stopped:
      return "stopped";
    case worker_state::launching:
      return "launching";
    case worker_state::idle:
      return "idle";
    case worker_state::busy:
      return "busy";
    case worker_state::offline:
      return "offline";
    case worker_state::crashed:
      return "crashed";
    case worker_state::stopping:
      return "stopping";
  }
  return "offline";
}

// A worker that answers probes.
inline bool is_online(worker_state state) {
  return state == worker_state::idle || state == worker_state::busy;
}

}  // namespace comfydist::master
