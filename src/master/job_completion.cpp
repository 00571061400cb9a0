// How a job ends: once its units are settled, its outputs are gathered (or assembled on the
// master's engine, or blended from tiles), the job is stored as done, partial, failed or
// cancelled, and its events go out.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/api_error.hpp"
#include "common/clock.hpp"
#include "common/file_io.hpp"
#include "common/uuid.hpp"
#include "image/codecs.hpp"
#include "master/job_planner.hpp"
#include "master/job_scheduler.hpp"
#include "master/job_views.hpp"
#include "master/scheduler_support.hpp"
#include "master/tile_blend.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
using scheduler_detail::join;
using scheduler_detail::unix_now;

void job_scheduler::maybe_finish_locked(job_runtime& rt) {
  if (rt.assembling || is_finished(rt.job.state)) {
    return;
  }
  std::size_t done = 0;
  std::size_t failed = 0;
  for (const auto& unit : rt.units) {
    if (unit.state == unit_state::pending || unit.state == unit_state::dispatched) {
      return;
    }
    (unit.state == unit_state::done ? done : failed) += 1;
  }
  std::string failure;
  if (failed > 0) {
    std::vector<std::string> reasons;
    for (const auto& unit : rt.units) {
      if (unit.state == unit_state::failed) {
        reasons.push_back(
            "unit " + std::to_string(unit.index) + ": " +
            (unit.errors.empty() ? std::string("failed") : unit.errors.back().message));
      }
    }
    failure = std::to_string(failed) + " of " + std::to_string(rt.units.size()) +
              " units failed after " + std::to_string(rt.job.max_attempts) + " attempts (" +
              join(reasons, "; ") + ")";
  }
  if (done == 0) {
    finish_locked(rt, job_state::failed, failure);
    return;
  }
  const json spec = tile_spec_of(rt.job.mode, rt.job.master_prompt, rt.job.collector_ids);
  if (!spec.is_null() && failed > 0) {
    // Without every tile there is no picture to blend: the job shows the tiles that came back
    // (below) and ends partial with the reasons.
    failure = "the image cannot be blended without all of its tiles: " + failure;
  } else if (!spec.is_null()) {
    assembly_request request;
    request.job_id = rt.job.id;
    request.number = rt.job.number;
    request.master_prompt = rt.job.master_prompt;
    request.client_prompt = rt.job.prompt;
    request.extra_data = rt.job.extra_data;
    tile_blend_request blend;
    blend.job_id = rt.job.id;
    blend.spec = spec;
    if (rt.tile_scale && *rt.tile_scale > 0) {
      blend.spec["scale"] = rt.tile_scale->load();
    }
    blend.temp_dir = folders_.temp_dir;
    for (const auto& unit : rt.units) {
      for (const auto& out : unit.outputs) {
        if (out.node_id == kTilePreviewNode) {
          blend.tile_files.push_back(out.subfolder + "/" + out.filename);
          break;
        }
      }
    }
    request.tiles = std::move(blend);
    rt.assembling = true;
    const std::string id = rt.job.id;
    assembler_->submit(std::move(request),
                       [this, id](const assembly_result& result) { on_assembled(id, result); });
    return;
  }
  if (spec.is_null() && !rt.job.collector_ids.empty() && !rt.job.master_prompt.empty()) {
    assembly_request request;
    request.job_id = rt.job.id;
    request.number = rt.job.number;
    request.master_prompt = rt.job.master_prompt;
    request.client_prompt = rt.job.prompt;
    request.extra_data = rt.job.extra_data;
    for (const auto& collector : rt.job.collector_ids) {
      auto& files = request.collected[collector];
      for (const auto& unit : rt.units) {
        for (const auto& out : unit.outputs) {
          if (out.node_id == collector) {
            files.push_back(out.subfolder + "/" + out.filename);
          }
        }
      }
    }
    rt.assembling = true;
    const std::string id = rt.job.id;
    assembler_->submit(std::move(request),
                       [this, id](const assembly_result& result) { on_assembled(id, result); });
    return;
  }
  json outputs = json::object();
  for (const auto& unit : rt.units) {
    for (const auto& out : unit.outputs) {
      json image = json::object();
      image["filename"] = out.filename;
      image["subfolder"] = out.subfolder;
      image["type"] = out.type;
      if (!outputs.contains(out.node_id)) {
        outputs[out.node_id] = json::object({{"images", json::array()}});
      }
      outputs[out.node_id]["images"].push_back(image);
    }
  }
  rt.job.outputs = outputs;
  for (const auto& [node, ui] : outputs.items()) {
    json data = json::object();
    data["node"] = node;
    data["display_node"] = node;
    data["output"] = ui;
    data["prompt_id"] = rt.job.id;
    emit_(rt.job.client_id, "executed", data);
  }
  finish_locked(rt, failed > 0 ? job_state::partial : job_state::done, failure);
}

void job_scheduler::on_assembled(const std::string& job_id, const assembly_result& result) {
  const std::lock_guard lock(mutex_);
  const auto it = active_.find(job_id);
  if (it == active_.end()) {
    return;
  }
  job_runtime& rt = it->second;
  rt.assembling = false;
  bool any_failed = false;
  for (const auto& unit : rt.units) {
    any_failed = any_failed || unit.state == unit_state::failed;
  }
  if (!result.ok) {
    finish_locked(rt, job_state::failed, result.error);
    return;
  }
  rt.job.outputs = result.outputs;
  std::string failure;
  if (any_failed) {
    failure = "some units failed; the collector got the images of the others";
    for (const auto& unit : rt.units) {
      if (unit.state == unit_state::failed && !unit.errors.empty()) {
        failure += "; unit " + std::to_string(unit.index) + ": " + unit.errors.back().message;
      }
    }
  }
  finish_locked(rt, any_failed ? job_state::partial : job_state::done, failure);
}

void job_scheduler::finish_locked(job_runtime& rt, job_state state, const std::string& error) {
  job_record& job = rt.job;
  job.state = state;
  job.finished_at = unix_now();
  job.error = error;
  json data = json::object();
  data["prompt_id"] = job.id;
  data["timestamp"] = now_ms();
  std::string type = "execution_success";
  if (state == job_state::failed) {
    type = "execution_error";
    data["node_id"] = job.collector_ids.empty() ? json(nullptr) : json(job.collector_ids.front());
    data["node_type"] = job.collector_ids.empty() ? json(nullptr)
                        : job.mode == "tiles"     ? json("ImageUpscaleWithModel")
                                                  : json("DistributedCollector");
    data["executed"] = json::array();
    data["exception_message"] = error;
    data["exception_type"] = "comfydist.JobFailed";
    data["traceback"] = json::array();
    data["current_inputs"] = json::object();
    data["current_outputs"] = json::object();
  } else if (state == job_state::cancelled) {
    type = "execution_interrupted";
    data["node_id"] = nullptr;
    data["node_type"] = nullptr;
    data["executed"] = json::array();
  } else if (state == job_state::partial) {
    data["partial"] = true;
    data["error"] = error;
  }
  job.messages.push_back(json::array({type, data}));
  store_.update_job(job);
  emit_(job.client_id, type, data);
  emit_job_locked(rt);
  json done = json::object();
  done["node"] = nullptr;
  done["prompt_id"] = job.id;
  emit_(job.client_id, "executing", done);
  if (job.mode == "tiles") {
    // The blend's scratch goes whatever the end; the cut tiles and the tiles brought back stay
    // for a retry of a job that did not finish, and the tiles are what a partial job shows.
    std::error_code ec;
    fs::remove_all(tile_job_dir(folders_.temp_dir, job.id), ec);
    if (state == job_state::done) {
      fs::remove_all(tile_input_dir(folders_.input_dir, job.id), ec);
      fs::remove_all(folders_.temp_dir / "collected" / job.id, ec);
    }
  }
  spdlog::info("event=job_finished job={} state={} error=\"{}\"", job.id, to_string(state), error);
  const std::string id = job.id;
  active_.erase(id);
  emit_status_locked();
}

void job_scheduler::emit_unit_locked(const job_runtime& rt, int index) {
  const auto i = static_cast<std::size_t>(index);
  json data =
      unit_to_json(rt.units[i], unit_progress{rt.live[i].progress_value, rt.live[i].progress_max});
  data.erase("outputs");
  data["prompt_id"] = rt.job.id;
  data["unit"] = index;
  data["units"] = rt.units.size();
  emit_("", "distributed_unit", data);
}

void job_scheduler::emit_job_locked(const job_runtime& rt) {
  json data = job_summary_json(rt.job, rt.units);
  data["prompt_id"] = rt.job.id;
  emit_("", "distributed_job", data);
}

void job_scheduler::emit_progress_locked(const job_runtime& rt) {
  std::int64_t value = 0;
  for (std::size_t i = 0; i < rt.units.size(); ++i) {
    if (rt.units[i].state == unit_state::done) {
      value += 100;
    } else if (rt.units[i].state == unit_state::dispatched && rt.live[i].progress_max > 0) {
      value += 100 * rt.live[i].progress_value / rt.live[i].progress_max;
    }
  }
  json data = json::object();
  data["value"] = value;
  data["max"] = static_cast<std::int64_t>(100 * rt.units.size());
  data["prompt_id"] = rt.job.id;
  data["node"] = rt.job.collector_ids.empty() ? json(nullptr) : json(rt.job.collector_ids.front());
  emit_(rt.job.client_id, "progress", data);
}

void job_scheduler::emit_status_locked() {
  json exec = json::object();
  exec["queue_remaining"] = active_.size();
  json status = json::object();
  status["exec_info"] = exec;
  json data = json::object();
  data["status"] = status;
  emit_("", "status", data);
}

}  // namespace comfydist::master
