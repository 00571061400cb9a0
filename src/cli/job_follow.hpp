// What `comfydist run` and `comfydist upscale` share: queueing a job on the master's distributed
// queue, following it with a progress bar per unit until it ends (Ctrl-C cancels it), saving its
// images, and the exit codes and messages of each way that can go wrong.
#pragma once

#include <signal.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "cli/job_summary.hpp"
#include "cli/master_http.hpp"
#include "cli/progress_display.hpp"
#include "common/json.hpp"

namespace comfydist::cli {

inline constexpr int kExitFailed = 1;  // the job failed, is partial, was cancelled or timed out
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitNoMaster = 3;
inline constexpr int kExitInterrupted = 130;  // what a shell reports for a SIGINT death

// Ends the command: an exit code and what to print on stderr.
struct run_failure {
  int code;
  std::string message;
};

// Set by Ctrl-C while an interrupt_guard lives.
bool interrupted();

// Ctrl-C while the command runs sets a flag the loops check, so that the job gets cancelled on
// the master. SA_RESETHAND: a second Ctrl-C kills at once when the master does not answer.
class interrupt_guard {
 public:
  interrupt_guard();
  ~interrupt_guard();
  interrupt_guard(const interrupt_guard&) = delete;
  interrupt_guard& operator=(const interrupt_guard&) = delete;

 private:
  struct sigaction previous_ {};
};

std::string no_master_message(const std::string& url);

// POST /distributed/queue with `body` (a client_id is added); returns the job's id. Throws
// run_failure: kExitNoMaster when nothing (or no master) answers, kExitBadInput for a refused
// prompt with every node error on its own line.
std::string submit_job(master_http& http, json body);

enum class wait_end { finished, timed_out, interrupted };

// Polls the job until it ends, `timeout_s` passes (0: never) or Ctrl-C, drawing its units on
// `display`. Returns the last job document seen.
json follow_job(master_http& http, const std::string& id, double timeout_s,
                progress_display& display, wait_end& end);

void cancel_job(master_http& http, const std::string& id);

// GET /view of one image the master lists (filename, subfolder, type); failures go to `error`.
std::optional<std::string> fetch_image(master_http& http, const json& image, std::string& error);

// Saves every image of the job's "outputs" into report.out_dir; failures go to the report.
void download_outputs(master_http& http, const json& job, run_report& report);

// The names of the workers the job skipped; the job document holds only their ids.
std::map<std::string, std::string> worker_names(master_http& http, const json& job);

}  // namespace comfydist::cli
