// The planner (design.md §3): turns one API-format workflow into the units workers run and the
// part the master runs itself. Distributed nodes never reach a worker: DistributedSeed and
// DistributedValue become literals in each unit, a DistributedCollector becomes a PreviewImage
// whose images the master gathers in unit order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace comfydist::master {

enum class distribution_mode { single, load_balanced, fan_out, tiles };

std::string to_string(distribution_mode mode);

struct unit_plan {
  int index = 0;
  json prompt;  // stock nodes only
  // For each collector of the job: the node id in this unit whose images are the unit's share
  // (a PreviewImage standing where the collector was).
  std::vector<std::string> collected_outputs;
};

struct job_plan {
  distribution_mode mode = distribution_mode::single;
  std::vector<unit_plan> units;
  // Fan-out: the collectors and everything downstream of them, run by the master's engine once the
  // units are in; the collectors stay in it and receive the gathered images. Empty otherwise.
  json master_prompt = json::object();
  std::vector<std::string> collector_ids;
};

struct plan_options {
  std::optional<int> count;  // units for fan-out; default: the number of enabled workers
  int enabled_workers = 1;
  int max_count = 1000;
};

// Throws api_error(400, ...) for a collector without images, a count of 0 or over the limit, and
// links into distributed nodes that cannot be resolved.
job_plan plan_job(const json& prompt, const plan_options& options);

}  // namespace comfydist::master
