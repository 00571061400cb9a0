// A tiled job's input step (docs/tiles.md): the nodes upstream of the image to cut run on the
// master's engine when it has them all, otherwise as a unit on a worker that has them; the image
// is then cut into the job's tile units.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/api_error.hpp"
#include "common/file_io.hpp"
#include "image/codecs.hpp"
#include "master/job_scheduler.hpp"
#include "master/node_catalog.hpp"
#include "master/scheduler_support.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
using scheduler_detail::join;

fs::path job_scheduler::run_tile_input_on_worker(const std::string& job_id, const json& input,
                                                 const std::vector<std::string>& eligible,
                                                 const std::vector<std::string>& missing) {
  // Candidates: online, allowed for this job, with every node the step needs; least busy first.
  std::vector<std::pair<int, worker_config>> candidates;
  for (const auto& [worker, queue] : registry_.online_workers()) {
    if (std::find(eligible.begin(), eligible.end(), worker.id) == eligible.end()) {
      continue;
    }
    const auto info = catalog_.info(worker);
    if (!info || !preflight(input, *info).empty()) {
      continue;
    }
    int busy = static_cast<int>(queue);
    {
      const std::lock_guard lock(mutex_);
      busy += inflight_.count(worker.id) > 0 ? inflight_.at(worker.id) : 0;
    }
    candidates.emplace_back(busy, worker);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  if (candidates.empty()) {
    throw api_error(400, "tile_input_failed",
                    "the nodes before the tiled ImageUpscaleWithModel need " + join(missing, ", ") +
                        ", which the master does not have and no online worker of this job can "
                        "run");
  }
  std::vector<std::string> errors;
  const int attempts = std::max(1, config_.snapshot().settings.max_attempts_per_unit);
  for (std::size_t i = 0; i < candidates.size() && static_cast<int>(i) < attempts; ++i) {
    const worker_config& worker = candidates[i].second;
    const unit_run_request request =
        unit_request(worker, "tiles-input-" + job_id, input, {kTileInputNode},
                     config_.snapshot().settings.worker_timeout_seconds);
    unit_run_control control;
    spdlog::info("event=tile_input_dispatched job={} worker={}", job_id, worker.name);
    const unit_run_result ran = run_unit(http_, request, control);
    if (ran.ok && ran.outputs.size() == 1) {
      const unit_output& out = ran.outputs.front();
      return (out.type == "output" ? folders_.output_dir : folders_.temp_dir) / out.subfolder /
             out.filename;
    }
    for (const auto& out : ran.outputs) {
      std::error_code ec;
      fs::remove((out.type == "output" ? folders_.output_dir : folders_.temp_dir) / out.subfolder /
                     out.filename,
                 ec);
    }
    errors.push_back(worker.name + ": " +
                     (ran.ok ? "a tiled upscale takes one image; its input is a batch of " +
                                   std::to_string(ran.outputs.size())
                             : ran.error));
    spdlog::warn("event=tile_input_failed job={} worker={} error=\"{}\"", job_id, worker.name,
                 errors.back());
  }
  throw api_error(400, "tile_input_failed",
                  "the nodes before the tiled ImageUpscaleWithModel failed on the workers: " +
                      join(errors, "; "));
}

job_plan job_scheduler::plan_tiled(const std::string& job_id, const json& prompt,
                                   const tile_request& tiled,
                                   const std::vector<std::string>& eligible) {
  const json input_prompt = tile_input_prompt(prompt, tiled);
  std::vector<std::string> missing;
  for (const auto& [id, node] : input_prompt.items()) {
    const std::string type = node.value("class_type", std::string());
    if (master_nodes_.find(type) == nullptr &&
        std::find(missing.begin(), missing.end(), type) == missing.end()) {
      missing.push_back(type);
    }
  }
  fs::path file;
  if (missing.empty()) {
    // The usual case: cheap image nodes (LoadImage, a resize) the master runs in milliseconds.
    assembly_request input;
    // Its own prompt id: clients following the job must not read the input step's end as the
    // job's.
    input.job_id = "tiles-input-" + job_id;
    input.master_prompt = input_prompt;
    const assembly_result ran = assembler_->run_now(std::move(input));
    if (!ran.ok) {
      throw api_error(
          400, "tile_input_failed",
          "the nodes before the tiled ImageUpscaleWithModel failed on the master: " + ran.error);
    }
    const json images = ran.outputs.contains(kTileInputNode)
                            ? ran.outputs[kTileInputNode].value("images", json())
                            : json();
    if (!images.is_array() || images.size() != 1) {
      throw api_error(400, "invalid_tiles",
                      "a tiled upscale takes one image; its input is a batch of " +
                          std::to_string(images.is_array() ? images.size() : 0));
    }
    file = folders_.temp_dir / images[0].value("subfolder", std::string()) /
           images[0].value("filename", std::string());
  } else {
    // A generated image (a sampler, a VAE decode): only a worker can make it.
    file = run_tile_input_on_worker(job_id, input_prompt, eligible, missing);
  }
  image::pixel_image pixels = image::decode_image(read_file(file)).image;
  std::error_code ec;
  fs::remove(file, ec);
  tiled_plan tiles = plan_tiled_job(prompt, tiled, pixels, folders_.input_dir, job_id);
  job_plan plan;
  plan.mode = distribution_mode::tiles;
  plan.units = std::move(tiles.units);
  plan.master_prompt = std::move(tiles.master_prompt);
  plan.collector_ids = {tiled.upscale_id};
  spdlog::info("event=tiles_planned job={} image={}x{} tiles={} tile={} overlap={} input_on={}",
               job_id, pixels.width, pixels.height, plan.units.size(), tiled.settings.tile,
               tiled.settings.overlap, missing.empty() ? "master" : "worker");
  return plan;
}

}  // namespace comfydist::master
