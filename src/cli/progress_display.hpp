// The live view of a job that `comfydist run` and `comfydist upscale` follow: on a terminal
// progress bars redrawn in place — one per unit, or one per worker for a tiled job and for jobs
// with more units than the terminal has rows; elsewhere (a log, a pipe) one line per change, so
// the output stays readable.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace comfydist::cli {

// `unit  3 [##########----------]  50%  gpu-1  (attempt 2)`, or the unit's state word (pending,
// done, failed) in place of the percentage. `index_width` aligns the unit numbers.
std::string unit_progress_line(const json& unit, int index_width);

// `gpu-1  [######--------------]  30%  tile 12 · 7 done`: what one worker does now (its running
// units' progress) and has done, for each worker that ran a unit of `job`, in the order they
// first appear; then a line counting the units no worker holds (waiting, failed).
std::vector<std::string> worker_progress_lines(const json& job);

// The whole terminal drawing of `job`: a header line, then a bar per unit, or a bar per worker
// (worker_progress_lines) for a tiled job and when the units do not fit in `rows` lines. Lines
// are cut to `columns` so that none wraps (a wrapped line would break the redraw in place).
std::vector<std::string> progress_lines(const json& job, double elapsed_s, int rows, int columns);

// What to print when a unit changes outside a terminal, e.g. "unit 3: done on gpu-1 (1 image)".
std::string unit_change_line(const json& unit);

class progress_display {
 public:
  progress_display(std::FILE* out, bool terminal);
  // Shows the job as it is now (a GET /distributed/jobs/{id} answer).
  void update(const json& job);
  // Prints a message (a warning while the master does not answer) above the drawing, which a
  // plain print would get drawn over.
  void note(const std::string& line);

 private:
  void redraw(const json& job);
  void print_changes(const json& job);

  std::FILE* out_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  std::size_t drawn_lines_ = 0;
  json last_job_;
  std::string job_state_;
  std::map<std::int64_t, std::string> unit_keys_;  // unit index -> state|worker|attempts
};

}  // namespace comfydist::cli
