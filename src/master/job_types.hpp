// Jobs and units as the master stores and schedules them (design.md §2): typed records shared by
// the job store, the scheduler and the routes. Times are Unix seconds (double); 0 means "not yet".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace comfydist::master {

enum class job_state { queued, running, done, partial, failed, cancelled };
enum class unit_state { pending, dispatched, done, failed };

std::string to_string(job_state state);
std::string to_string(unit_state state);
// Throw std::invalid_argument for an unknown name.
job_state job_state_from_string(const std::string& name);
unit_state unit_state_from_string(const std::string& name);

inline bool is_finished(job_state state) {
  return state == job_state::done || state == job_state::partial || state == job_state::failed ||
         state == job_state::cancelled;
}

// One file the master holds for a unit: downloaded from the worker and written under the
// master's output/ or temp/ folder.
struct unit_output {
  std::string node_id;  // the node of the unit's prompt that produced it
  std::string filename;
  std::string subfolder;
  std::string type;  // "output" or "temp"
};

// One failed attempt of a unit.
struct unit_error {
  std::string worker_id;
  std::string worker_name;
  std::string message;
  double at = 0;
};

struct unit_record {
  std::string job_id;
  int index = 0;
  json prompt = json::object();  // stock nodes only: what a worker runs
  // Node ids in `prompt` whose images the master collects for the job's collectors.
  std::vector<std::string> collected_outputs;
  unit_state state = unit_state::pending;
  std::string worker_id;  // the worker of the current or last attempt
  std::string worker_name;
  std::string remote_prompt_id;  // the prompt id on that worker
  int attempts = 0;
  std::vector<unit_error> errors;
  double started_at = 0;  // the current/last attempt's dispatch time
  double finished_at = 0;
  std::vector<unit_output> outputs;
};

struct job_record {
  std::string id;  // the prompt_id clients see
  std::int64_t number = 0;
  json prompt = json::object();  // the validated prompt as submitted
  json extra_data = json::object();
  std::string client_id;  // empty: none
  std::vector<std::string> outputs_to_execute;
  std::string mode;  // distribution_mode as text
  // Fan-out with collectors: what the master runs once the units are in (job_plan).
  json master_prompt = json::object();
  std::vector<std::string> collector_ids;
  std::vector<std::string> worker_ids;  // the workers the job may use; empty = every enabled one
  int max_attempts = 3;
  job_state state = job_state::queued;
  double created_at = 0;
  double started_at = 0;
  double finished_at = 0;
  json outputs = json::object();          // history "outputs": node id → ui dict
  json messages = json::array();          // history "status.messages"
  json skipped_workers = json::object();  // worker id → why it cannot run this job
  std::string error;                      // why the job failed or is partial; empty otherwise
};

}  // namespace comfydist::master
