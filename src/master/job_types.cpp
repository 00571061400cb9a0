// Text names of job and unit states: what the job store writes and the routes show.
#include "master/job_types.hpp"

#include <stdexcept>

namespace comfydist::master {

std::string to_string(job_state state) {
  switch (state) {
    case job_state::queued:
      return "queued";
    case job_state::running:
      return "running";
    case job_state::done:
      return "done";
    case job_state::partial:
      return "partial";
    case job_state::failed:
      return "failed";
    case job_state::cancelled:
      return "cancelled";
  }
  throw std::invalid_argument("job_state " + std::to_string(static_cast<int>(state)) +
                              " has no name");
}

std::string to_string(unit_state state) {
  switch (state) {
    case unit_state::pending:
      return "pending";
    case unit_state::dispatched:
      return "dispatched";
    case unit_state::done:
      return "done";
    case unit_state::failed:
      return "failed";
  }
  throw std::invalid_argument("unit_state " + std::to_string(static_cast<int>(state)) +
                              " has no name");
}

job_state job_state_from_string(const std::string& name) {
  for (const job_state state : {job_state::queued, job_state::running, job_state::done,
                                job_state::partial, job_state::failed, job_state::cancelled}) {
    if (to_string(state) == name) {
      return state;
    }
  }
  throw std::invalid_argument("unknown job state \"" + name + "\"");
}

unit_state unit_state_from_string(const std::string& name) {
  for (const unit_state state :
       {unit_state::pending, unit_state::dispatched, unit_state::done, unit_state::failed}) {
    if (to_string(state) == name) {
      return state;
    }
  }
  throw std::invalid_argument("unknown unit state \"" + name + "\"");
}

}  // namespace comfydist::master
