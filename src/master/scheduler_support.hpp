// Small helpers the scheduler's files share (job_scheduler.cpp, job_completion.cpp,
// job_requests.cpp); not for use elsewhere.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "common/clock.hpp"
#include "master/job_scheduler.hpp"
#include "master/job_types.hpp"

namespace comfydist::master::scheduler_detail {

// Unix seconds, as the job records keep them.
inline double unix_now() {
  return static_cast<double>(now_ms()) / 1000.0;
}

// Removes the files of a run nobody keeps (a late duplicate, a cancelled job's).
inline void delete_outputs(const master_folders& folders, const std::vector<unit_output>& outputs) {
  for (const auto& out : outputs) {
    const std::filesystem::path base = out.type == "output" ? folders.output_dir : folders.temp_dir;
    std::error_code ec;
    std::filesystem::remove(base / out.subfolder / out.filename, ec);
  }
}

inline std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& p : parts) {
    out += (out.empty() ? "" : separator) + p;
  }
  return out;
}

}  // namespace comfydist::master::scheduler_detail
