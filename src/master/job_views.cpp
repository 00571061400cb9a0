// JSON renderings of jobs and units.
#include "master/job_views.hpp"

namespace comfydist::master {
namespace {

json output_json(const unit_output& out) {
  json o = json::object();
  o["node_id"] = out.node_id;
  o["filename"] = out.filename;
  o["subfolder"] = out.subfolder;
  o["type"] = out.type;
  return o;
}

}  // namespace

json unit_to_json(const unit_record& unit, const unit_progress& progress) {
  json u = json::object();
  u["index"] = unit.index;
  u["state"] = to_string(unit.state);
  u["worker_id"] = unit.worker_id;
  u["worker_name"] = unit.worker_name;
  u["remote_prompt_id"] = unit.remote_prompt_id;
  u["attempts"] = unit.attempts;
  json errors = json::array();
  for (const auto& e : unit.errors) {
    json entry = json::object();
    entry["worker_id"] = e.worker_id;
    entry["worker_name"] = e.worker_name;
    entry["message"] = e.message;
    entry["at"] = e.at;
    errors.push_back(entry);
  }
  u["errors"] = errors;
  json p = json::object();
  if (unit.state == unit_state::done) {
    p["value"] = 1;
    p["max"] = 1;
  } else {
    p["value"] = progress.value;
    p["max"] = progress.max;
  }
  u["progress"] = p;
  u["started_at"] = unit.started_at;
  u["finished_at"] = unit.finished_at;
  json outputs = json::array();
  for (const auto& o : unit.outputs) {
    outputs.push_back(output_json(o));
  }
  u["outputs"] = outputs;
  return u;
}

json job_summary_json(const job_record& job, const std::vector<unit_record>& units) {
  json j = json::object();
  j["id"] = job.id;
  j["number"] = job.number;
  j["state"] = to_string(job.state);
  j["mode"] = job.mode;
  j["client_id"] = job.client_id;
  j["created_at"] = job.created_at;
  j["started_at"] = job.started_at;
  j["finished_at"] = job.finished_at;
  j["error"] = job.error;
  json counts = json::object();
  for (const char* state : {"pending", "dispatched", "done", "failed"}) {
    counts[state] = 0;
  }
  for (const auto& u : units) {
    counts[to_string(u.state)] = counts[to_string(u.state)].get<int>() + 1;
  }
  j["unit_count"] = units.size();
  j["units_by_state"] = counts;
  j["worker_ids"] = job.worker_ids;
  j["skipped_workers"] = job.skipped_workers;
  return j;
}

json job_to_json(const job_record& job, const std::vector<unit_record>& units,
                 const std::vector<unit_progress>& progress) {
  json j = job_summary_json(job, units);
  j["collector_ids"] = job.collector_ids;
  j["max_attempts"] = job.max_attempts;
  json list = json::array();
  for (std::size_t i = 0; i < units.size(); ++i) {
    list.push_back(unit_to_json(units[i], i < progress.size() ? progress[i] : unit_progress{}));
  }
  j["units"] = list;
  j["outputs"] = job.outputs;
  j["prompt"] = job.prompt;
  return j;
}

json queue_entry(const job_record& job) {
  json entry = json::array();
  entry.push_back(job.number);
  entry.push_back(job.id);
  entry.push_back(job.prompt);
  entry.push_back(job.extra_data);
  entry.push_back(job.outputs_to_execute);
  return entry;
}

json history_entry(const job_record& job) {
  json entry = json::object();
  entry["prompt"] = queue_entry(job);
  entry["outputs"] = job.outputs;
  json status = json::object();
  switch (job.state) {
    case job_state::done:
      status["status_str"] = "success";
      break;
    case job_state::partial:
      status["status_str"] = "partial";
      break;
    default:
      status["status_str"] = "error";
  }
  status["completed"] = job.state == job_state::done || job.state == job_state::partial;
  status["messages"] = job.messages;
  entry["status"] = status;
  json meta = json::object();
  for (const auto& [node, ui] : job.outputs.items()) {
    json m = json::object();
    m["node_id"] = node;
    m["display_node"] = node;
    m["parent_node"] = nullptr;
    m["real_node_id"] = node;
    meta[node] = m;
  }
  entry["meta"] = meta;
  return entry;
}

}  // namespace comfydist::master
