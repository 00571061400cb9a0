// The report `comfydist run` prints when a job ends: its state, the images saved, what each
// worker did, every failure with its reason and the workers the job could not use.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace comfydist::cli {

// What the command itself knows beyond the job document.
struct run_report {
  double elapsed_s = 0;  // wall time from submission to the end, as the user waited it
  std::filesystem::path out_dir;
  std::vector<std::filesystem::path> saved;
  std::vector<std::string> download_errors;
  std::map<std::string, std::string> worker_names;  // id -> name, for the skipped workers
};

// Several lines, each ending with '\n'.
std::string job_summary(const json& job, const run_report& report);

}  // namespace comfydist::cli
