// `comfydist run WORKFLOW.json`: queues a workflow on the master's distributed queue, follows the
// job until it ends (a progress bar per unit; Ctrl-C cancels it), then saves its images.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "cli/cli_common.hpp"
#include "cli/job_follow.hpp"
#include "cli/job_view.hpp"
#include "cli/workflow_file.hpp"
#include "net/auth_token.hpp"

namespace comfydist::cli {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int kMaxCount = 1000;

struct run_args {
  std::string workflow;
  std::string master = "http://127.0.0.1:8188";
  std::string token_file;
  int count = 0;
  std::vector<std::string> workers;
  std::string out_dir = ".";
  double timeout_s = 0;
  int tile = 0;  // --tiles: tile the workflow's ImageUpscaleWithModel (docs/tiles.md)
  int overlap = 64;
};

int run_workflow(const CLI::App& cmd, const run_args& args) {
  if (cmd.count("--count") > 0 && (args.count < 1 || args.count > kMaxCount)) {
    throw run_failure{kExitBadInput, "--count must be between 1 and " + std::to_string(kMaxCount)};
  }
  if (cmd.count("--timeout") > 0 && !(args.timeout_s > 0)) {
    throw run_failure{kExitBadInput, "--timeout must be a number of seconds above 0"};
  }
  std::optional<std::string> token;
  if (!args.token_file.empty()) {
    try {
      token = net::read_auth_token(args.token_file);
    } catch (const std::exception& e) {
      throw run_failure{kExitBadInput, e.what()};
    }
  }
  json prompt;
  try {
    prompt = load_workflow(args.workflow);
  } catch (const workflow_file_error& e) {
    throw run_failure{kExitBadInput, e.what()};
  }
  run_report report;
  report.out_dir = args.out_dir;
  std::error_code error;
  std::filesystem::create_directories(report.out_dir, error);
  if (error || !std::filesystem::is_directory(report.out_dir)) {
    throw run_failure{kExitBadInput, "cannot use '" + args.out_dir + "' as the output folder" +
                                         (error ? ": " + error.message() : std::string())};
  }
  std::unique_ptr<master_http> http;
  try {
    http = std::make_unique<master_http>(args.master, token);
  } catch (const std::invalid_argument& e) {
    throw run_failure{kExitBadInput, e.what()};
  }

  interrupt_guard guard;
  const auto start = steady::now();
  json body = json::object();
  body["prompt"] = prompt;
  if (args.count > 0) {
    body["count"] = args.count;
  }
  if (!args.workers.empty()) {
    body["workers"] = args.workers;
  }
  if (args.tile > 0) {
    body["tiles"] = json::object({{"tile", args.tile}, {"overlap", args.overlap}});
  }
  const std::string id = submit_job(*http, std::move(body));
  const bool terminal = isatty(STDOUT_FILENO) != 0 && std::getenv("TERM") != nullptr &&
                        std::string(std::getenv("TERM")) != "dumb";
  std::printf("queued job %s on %s\n", id.c_str(), http->url().c_str());
  std::fflush(stdout);
  progress_display display(stdout, terminal);
  wait_end end = wait_end::finished;
  json job = follow_job(*http, id, args.timeout_s, display, end);
  if (end == wait_end::interrupted) {
    std::fprintf(stderr, "interrupted: cancelling job %s\n", id.c_str());
    cancel_job(*http, id);
    return kExitInterrupted;
  }
  if (end == wait_end::timed_out) {
    std::fprintf(stderr, "timed out after %g s: cancelling job %s\n", args.timeout_s, id.c_str());
    cancel_job(*http, id);
    // Whatever units finished before the cancel still have their images on the master.
    const net::client_result result = http->fetch("GET", "/distributed/jobs/" + id, "", 10s);
    if (is_success(result)) {
      try {
        job = json::parse(result.body);
      } catch (const json::parse_error&) {
      }
    }
  }
  download_outputs(*http, job, report);
  if (interrupted()) {
    std::fprintf(stderr, "interrupted while saving the images\n");
    return kExitInterrupted;
  }
  report.elapsed_s = std::chrono::duration<double>(steady::now() - start).count();
  report.worker_names = worker_names(*http, job);
  std::printf("%s", job_summary(job, report).c_str());
  std::fflush(stdout);
  if (end == wait_end::timed_out) {
    std::fprintf(stderr, "error: job %s did not finish within %g s\n", id.c_str(), args.timeout_s);
    return kExitFailed;
  }
  const std::string state = text_field(job, "state");
  if (state != "done") {
    std::fprintf(stderr, "error: job %s %s\n", id.c_str(),
                 state == "partial" ? "finished only in part" : state.c_str());
    return kExitFailed;
  }
  if (!report.download_errors.empty()) {
    std::fprintf(stderr, "error: %zu image(s) could not be saved\n", report.download_errors.size());
    return kExitFailed;
  }
  return 0;
}

}  // namespace

subcommand add_run_command(CLI::App& app) {
  auto args = std::make_shared<run_args>();
  auto* cmd = app.add_subcommand(
      "run", "Run an API-format workflow on the cluster, show its progress and save its images");
  cmd->add_option("workflow", args->workflow,
                  "API-format workflow (ComfyUI's \"Export (API)\"), or a file holding "
                  "{\"prompt\": {...}}")
      ->required();
  cmd->add_option("--master", args->master, "The master's URL")->capture_default_str();
  cmd->add_option("--count", args->count,
                  "Run the workflow N times (1..1000), spread over the workers");
  cmd->add_option("--workers", args->workers, "Use only these workers: ids, comma-separated")
      ->delimiter(',');
  cmd->add_option("--out", args->out_dir, "Folder the images are saved into (created if missing)")
      ->capture_default_str();
  cmd->add_option("--timeout", args->timeout_s,
                  "Give up after S seconds and cancel the job (default: wait until it ends)");
  cmd->add_option("--tiles", args->tile,
                  "Upscale the workflow's ImageUpscaleWithModel in tiles of N pixels on every "
                  "worker");
  cmd->add_option("--overlap", args->overlap, "Overlap of the --tiles tiles, in pixels")
      ->capture_default_str();
  cmd->add_option("--auth-token-file,--token-file", args->token_file,
                  "File with the master's auth token (its --auth-token-file)");
  auto run = [cmd, args] {
    try {
      return run_workflow(*cmd, *args);
    } catch (const run_failure& failure) {
      std::fprintf(stderr, "error: %s\n", failure.message.c_str());
      return failure.code;
    }
  };
  return {cmd, run};
}

}  // namespace comfydist::cli
