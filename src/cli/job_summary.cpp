// The end-of-job report of `comfydist run`.
#include "cli/job_summary.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "cli/job_view.hpp"

namespace comfydist::cli {
namespace {

std::string seconds_text(double seconds) {
  char text[32];
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  } else {
    const auto whole = static_cast<long>(seconds);
    std::snprintf(text, sizeof text, "%ld min %ld s", whole / 60, whole % 60);
  }
  return text;
}

std::size_t image_count(const json& job) {
  std::size_t count = 0;
  const json outputs = object_field(job, "outputs");  // items() only refers to it
  for (const auto& [node, ui] : outputs.items()) {
    count += array_field(ui, "images").size();
  }
  return count;
}

std::string worker_label(const json& object) {
  std::string name = text_field(object, "worker_name");
  return name.empty() ? text_field(object, "worker_id").substr(0, 8) : name;
}

void add_worker_lines(const json& units, std::string& out) {
  // Per worker, in the order the workers first appear, counts per final unit state.
  std::vector<std::pair<std::string, std::map<std::string, int>>> workers;
  for (const auto& unit : units) {
    const std::string label = worker_label(unit);
    if (label.empty()) {
      continue;
    }
    auto it = std::find_if(workers.begin(), workers.end(),
                           [&](const auto& entry) { return entry.first == label; });
    if (it == workers.end()) {
      workers.push_back({label, {}});
      it = std::prev(workers.end());
    }
    const std::string state = text_field(unit, "state");
    ++it->second[state == "dispatched" ? "unfinished" : state];
  }
  if (workers.empty()) {
    return;
  }
  out += "workers:\n";
  for (const auto& [label, counts] : workers) {
    out += "  " + label + ":";
    const char* separator = " ";
    for (const auto& [state, count] : counts) {
      out += separator + std::to_string(count) + " " + state;
      separator = ", ";
    }
    out += "\n";
  }
}

void add_failure_lines(const json& units, std::string& out) {
  std::string lines;
  for (const auto& unit : units) {
    for (const auto& error : array_field(unit, "errors")) {
      lines += "  unit " + std::to_string(static_cast<long>(number_field(unit, "index"))) + " on " +
               worker_label(error) + ": " + first_line(text_field(error, "message")) + "\n";
    }
  }
  if (!lines.empty()) {
    out += "failures:\n" + lines;
  }
}

}  // namespace

std::string job_summary(const json& job, const run_report& report) {
  const json units = array_field(job, "units");
  std::string out = "job " + text_field(job, "id") + ": " + text_field(job, "state") + " in " +
                    seconds_text(report.elapsed_s) + " (" + text_field(job, "mode") + ", " +
                    std::to_string(units.size()) + (units.size() == 1 ? " unit" : " units") + ")\n";
  if (const std::string error = text_field(job, "error"); !error.empty()) {
    out += "reason: " + error + "\n";
  }
  out += "images: " + std::to_string(image_count(job)) + " (saved " +
         std::to_string(report.saved.size()) + " in " + report.out_dir.string() + ")\n";
  // A run of 1000 images would bury the rest of the report.
  constexpr std::size_t kListedFiles = 20;
  for (std::size_t i = 0; i < report.saved.size() && i < kListedFiles; ++i) {
    out += "  " + report.saved[i].string() + "\n";
  }
  if (report.saved.size() > kListedFiles) {
    out += "  ... and " + std::to_string(report.saved.size() - kListedFiles) + " more\n";
  }
  for (const auto& error : report.download_errors) {
    out += "  not saved: " + error + "\n";
  }
  add_worker_lines(units, out);
  add_failure_lines(units, out);
  const json skipped = object_field(job, "skipped_workers");
  if (!skipped.empty()) {
    out += "skipped workers:\n";
    for (const auto& [id, reason] : skipped.items()) {
      const auto name = report.worker_names.find(id);
      const std::string label =
          name != report.worker_names.end() ? name->second + " (" + id.substr(0, 8) + ")" : id;
      out += "  " + label + ": " +
             (reason.is_string() ? reason.get<std::string>() : reason.dump()) + "\n";
    }
  }
  return out;
}

}  // namespace comfydist::cli
