// `comfydist run WORKFLOW.json`: queues a workflow on the master's distributed queue, follows the
// job until it ends (a progress bar per unit; Ctrl-C cancels it), then saves its images.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "cli/cli_common.hpp"
#include "cli/job_summary.hpp"
#include "cli/job_view.hpp"
#include "cli/master_client.hpp"
#include "cli/master_http.hpp"
#include "cli/output_files.hpp"
#include "cli/progress_display.hpp"
#include "cli/workflow_file.hpp"
#include "common/uuid.hpp"
#include "net/auth_token.hpp"

namespace comfydist::cli {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int kExitFailed = 1;  // the job failed, is partial, was cancelled or timed out
constexpr int kExitBadInput = 2;
constexpr int kExitNoMaster = 3;
constexpr int kExitInterrupted = 130;  // what a shell reports for a SIGINT death
constexpr int kMaxCount = 1000;
// How long the master may stay silent while a job runs before the command gives up on it: long
// enough for a master restart, short enough not to hang a script.
constexpr auto kMasterSilenceLimit = 30s;

struct run_args {
  std::string workflow;
  std::string master = "http://127.0.0.1:8188";
  std::string token_file;
  int count = 0;
  std::vector<std::string> workers;
  std::string out_dir = ".";
  double timeout_s = 0;
};

// Ends the command: an exit code and what to print on stderr.
struct run_failure {
  int code;
  std::string message;
};

volatile sig_atomic_t g_interrupted = 0;

void on_interrupt(int) {
  g_interrupted = 1;
}

// Ctrl-C while the command runs sets a flag the loops check, so that the job gets cancelled on
// the master. SA_RESETHAND: a second Ctrl-C kills at once when the master does not answer.
class interrupt_guard {
 public:
  interrupt_guard() {
    g_interrupted = 0;
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, &previous_);
  }
  ~interrupt_guard() { sigaction(SIGINT, &previous_, nullptr); }
  interrupt_guard(const interrupt_guard&) = delete;
  interrupt_guard& operator=(const interrupt_guard&) = delete;

 private:
  struct sigaction previous_ {};
};

std::string no_master_message(const std::string& url) {
  return "no comfydist master at " + url + " — start one with `comfydist serve` (or pass " +
         "--master URL)";
}

// ComfyUI's 400 to a bad prompt: the error, then every node error on its own line.
std::string describe_refused_prompt(const std::string& body) {
  json document;
  try {
    document = json::parse(body);
  } catch (const std::exception&) {
    return describe_master_error(400, body);
  }
  const json error = object_field(document, "error");
  const std::string message =
      document.is_object() && document.contains("error") && document["error"].is_string()
          ? document["error"].get<std::string>()
          : text_field(error, "message");
  std::string out = "the master refused the job: " + message;
  if (const std::string details = text_field(error, "details"); !details.empty()) {
    out += ": " + details;
  }
  // items() keeps a reference: the object must outlive the loop.
  const json node_errors = object_field(document, "node_errors");
  for (const auto& [node_id, node] : node_errors.items()) {
    const std::string class_type = text_field(node, "class_type");
    for (const auto& node_error : array_field(node, "errors")) {
      out += "\n  node " + node_id + (class_type.empty() ? "" : " (" + class_type + ")") + ": " +
             text_field(node_error, "message");
      if (const std::string details = text_field(node_error, "details"); !details.empty()) {
        out += ": " + details;
      }
    }
  }
  return out;
}

// Returns the job's id.
std::string submit(master_http& http, const json& prompt, const run_args& args) {
  json body = json::object();
  body["prompt"] = prompt;
  body["client_id"] = make_uuid4();
  if (args.count > 0) {
    body["count"] = args.count;
  }
  if (!args.workers.empty()) {
    body["workers"] = args.workers;
  }
  const net::client_result result = http.fetch("POST", "/distributed/queue", body.dump(), 30s);
  if (!result.ok) {
    throw run_failure{kExitNoMaster, no_master_message(http.url()) + "\n  (" + result.error + ")"};
  }
  if (result.status == 400) {
    throw run_failure{kExitBadInput, describe_refused_prompt(result.body)};
  }
  if (result.status == 404) {
    // Something answers, but without the distributed queue: a plain ComfyUI, for one.
    throw run_failure{kExitNoMaster, no_master_message(http.url()) + "\n  (the server there " +
                                         "answers 404 to POST /distributed/queue)"};
  }
  if (result.status == 401 || result.status == 403) {
    throw run_failure{kExitBadInput, describe_master_error(result.status, result.body)};
  }
  if (!is_success(result)) {
    throw run_failure{kExitFailed, describe_master_error(result.status, result.body)};
  }
  json answer;
  try {
    answer = json::parse(result.body);
  } catch (const std::exception&) {
  }
  const std::string id = text_field(answer, "prompt_id");
  if (id.empty()) {
    throw run_failure{kExitFailed, "the master's answer to the queue names no prompt_id: " +
                                       result.body.substr(0, 200)};
  }
  return id;
}

enum class wait_end { finished, timed_out, interrupted };

// Polls the job every 200 ms (simpler and sturdier than the WebSocket, which is for browsers)
// until it ends, the timeout passes or Ctrl-C. Returns the last job document seen.
json follow(master_http& http, const std::string& id, const run_args& args,
            progress_display& display, wait_end& end) {
  const auto start = steady::now();
  const auto deadline = start + std::chrono::duration_cast<steady::duration>(
                                    std::chrono::duration<double>(args.timeout_s));
  auto last_answer = start;
  bool warned = false;
  json job = json::object();
  for (;;) {
    if (g_interrupted != 0) {
      end = wait_end::interrupted;
      return job;
    }
    const net::client_result result = http.fetch("GET", "/distributed/jobs/" + id, "", 10s);
    const auto now = steady::now();
    if (is_success(result)) {
      try {
        job = json::parse(result.body);
        last_answer = now;
        warned = false;
        display.update(job);
        if (is_final_job_state(text_field(job, "state"))) {
          end = wait_end::finished;
          return job;
        }
      } catch (const json::parse_error&) {
        display.note("the master's job document is not JSON; retrying");
      }
    } else if (result.ok &&
               (result.status == 404 || result.status == 401 || result.status == 403)) {
      throw run_failure{kExitFailed, "following job " + id + ": " +
                                         describe_master_error(result.status, result.body)};
    } else {
      const std::string reason = failure_reason(result);
      if (now - last_answer > kMasterSilenceLimit) {
        throw run_failure{kExitFailed, "lost the master at " + http.url() + " (" + reason +
                                           "); job " + id + " may still be running there"};
      }
      if (!warned) {
        display.note("the master does not answer (" + first_line(reason) + "); retrying");
        warned = true;
      }
    }
    if (args.timeout_s > 0 && now >= deadline) {
      end = wait_end::timed_out;
      return job;
    }
    std::this_thread::sleep_for(200ms);
  }
}

void cancel(master_http& http, const std::string& id) {
  const net::client_result result =
      http.fetch("POST", "/distributed/jobs/" + id + "/cancel", "{}", 10s);
  if (is_success(result)) {
    std::fprintf(stderr, "cancelled job %s on the master\n", id.c_str());
  } else {
    std::fprintf(stderr, "could not cancel job %s: %s\n", id.c_str(),
                 failure_reason(result).c_str());
  }
}

// Saves every image of the job's "outputs" into the out folder; failures go to the report.
void download_outputs(master_http& http, const json& job, run_report& report) {
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  const json outputs = object_field(job, "outputs");  // items() only refers to it
  for (const auto& [node_id, ui] : outputs.items()) {
    for (const auto& image : array_field(ui, "images")) {
      if (g_interrupted != 0) {
        return;
      }
      const std::string filename = text_field(image, "filename");
      const std::string subfolder = text_field(image, "subfolder");
      std::string type = text_field(image, "type");
      type = type.empty() ? "output" : type;
      if (!seen.emplace(filename, subfolder, type).second) {
        continue;
      }
      if (!is_safe_output_name(filename)) {
        report.download_errors.push_back("'" + filename + "' (node " + node_id +
                                         "): refused, not a plain file name");
        continue;
      }
      if (type != "output" && type != "temp") {
        report.download_errors.push_back(filename + ": unknown type '" + type + "'");
        continue;
      }
      const net::client_result result =
          http.fetch("GET",
                     "/view?filename=" + percent_encode(filename) +
                         "&subfolder=" + percent_encode(subfolder) + "&type=" + type,
                     "", 300s, std::size_t{4} << 30);
      if (!is_success(result)) {
        report.download_errors.push_back(filename + ": " + failure_reason(result));
        continue;
      }
      try {
        report.saved.push_back(save_new_file(report.out_dir, filename, result.body));
      } catch (const std::exception& e) {
        report.download_errors.push_back(e.what());
      }
    }
  }
}

// The names of the workers the job skipped; the job document holds only their ids.
std::map<std::string, std::string> worker_names(master_http& http, const json& job) {
  std::map<std::string, std::string> names;
  if (object_field(job, "skipped_workers").empty()) {
    return names;
  }
  try {
    const json answer = http.json_calls().call("GET", "/distributed/workers");
    for (const auto& worker : array_field(answer, "workers")) {
      names[text_field(worker, "id")] = text_field(worker, "name");
    }
  } catch (const std::exception&) {
    // The summary falls back to the ids.
  }
  return names;
}

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
  const std::string id = submit(*http, prompt, args);
  const bool terminal = isatty(STDOUT_FILENO) != 0 && std::getenv("TERM") != nullptr &&
                        std::string(std::getenv("TERM")) != "dumb";
  std::printf("queued job %s on %s\n", id.c_str(), http->url().c_str());
  std::fflush(stdout);
  progress_display display(stdout, terminal);
  wait_end end = wait_end::finished;
  json job = follow(*http, id, args, display, end);
  if (end == wait_end::interrupted) {
    std::fprintf(stderr, "interrupted: cancelling job %s\n", id.c_str());
    cancel(*http, id);
    return kExitInterrupted;
  }
  if (end == wait_end::timed_out) {
    std::fprintf(stderr, "timed out after %g s: cancelling job %s\n", args.timeout_s, id.c_str());
    cancel(*http, id);
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
  if (g_interrupted != 0) {
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
