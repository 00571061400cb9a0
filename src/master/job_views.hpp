// How jobs and units look to clients: the /distributed/jobs documents and ComfyUI's history and
// queue entries, built from the stored records.
#pragma once

#include <cstdint>
#include <vector>

#include "common/json.hpp"
#include "master/job_types.hpp"

namespace comfydist::master {

struct unit_progress {
  std::int64_t value = 0;
  std::int64_t max = 0;
};

json unit_to_json(const unit_record& unit, const unit_progress& progress);
// `progress` has one entry per unit, or is empty (no live progress: finished units count full).
json job_to_json(const job_record& job, const std::vector<unit_record>& units,
                 const std::vector<unit_progress>& progress);
// The list view: the job without prompt and units, with unit counts by state.
json job_summary_json(const job_record& job, const std::vector<unit_record>& units);
// ComfyUI's GET /history item: {prompt: [...], outputs, status: {status_str, completed,
// messages}, meta}. A partial job says "partial" in status_str.
json history_entry(const job_record& job);
// ComfyUI's queue item: [number, prompt_id, prompt, extra_data, outputs_to_execute].
json queue_entry(const job_record& job);

}  // namespace comfydist::master
