// Queueing, following and saving a job from the command line.
#include "cli/job_follow.hpp"

#include <unistd.h>

#include <cstdio>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "cli/job_view.hpp"
#include "cli/master_client.hpp"
#include "cli/output_files.hpp"
#include "common/uuid.hpp"

namespace comfydist::cli {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// How long the master may stay silent while a job runs before the command gives up on it: long
// enough for a master restart, short enough not to hang a script.
constexpr auto kMasterSilenceLimit = 30s;

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

volatile sig_atomic_t g_interrupted = 0;

void on_interrupt(int) {
  g_interrupted = 1;
}

}  // namespace

bool interrupted() {
  return g_interrupted != 0;
}

interrupt_guard::interrupt_guard() {
  g_interrupted = 0;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, &previous_);
}

interrupt_guard::~interrupt_guard() {
  sigaction(SIGINT, &previous_, nullptr);
}

std::string no_master_message(const std::string& url) {
  return "no comfydist master at " + url + " — start one with `comfydist serve` (or pass " +
         "--master URL)";
}

std::string submit_job(master_http& http, json body) {
  body["client_id"] = make_uuid4();
  // Long: a tiled job is answered once its input image exists, which may be a worker's generation.
  const net::client_result result = http.fetch("POST", "/distributed/queue", body.dump(), 900s);
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
  std::string id = text_field(answer, "prompt_id");
  if (id.empty()) {
    throw run_failure{kExitFailed, "the master's answer to the queue names no prompt_id: " +
                                       result.body.substr(0, 200)};
  }
  return id;
}

// Polls every 200 ms: simpler and sturdier than the WebSocket, which is for browsers.
json follow_job(master_http& http, const std::string& id, double timeout_s,
                progress_display& display, wait_end& end) {
  const auto start = steady::now();
  const auto deadline = start + std::chrono::duration_cast<steady::duration>(
                                    std::chrono::duration<double>(timeout_s));
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
        std::string message = "lost the master at " + http.url();
        message.append(" (").append(reason).append("); job ").append(id).append(
            " may still be running there");
        throw run_failure{kExitFailed, message};
      }
      if (!warned) {
        display.note("the master does not answer (" + first_line(reason) + "); retrying");
        warned = true;
      }
    }
    if (timeout_s > 0 && now >= deadline) {
      end = wait_end::timed_out;
      return job;
    }
    std::this_thread::sleep_for(200ms);
  }
}

void cancel_job(master_http& http, const std::string& id) {
  const net::client_result result =
      http.fetch("POST", "/distributed/jobs/" + id + "/cancel", "{}", 10s);
  if (is_success(result)) {
    std::fprintf(stderr, "cancelled job %s on the master\n", id.c_str());
  } else {
    std::fprintf(stderr, "could not cancel job %s: %s\n", id.c_str(),
                 failure_reason(result).c_str());
  }
}

std::optional<std::string> fetch_image(master_http& http, const json& image, std::string& error) {
  const std::string filename = text_field(image, "filename");
  const std::string subfolder = text_field(image, "subfolder");
  std::string type = text_field(image, "type");
  type = type.empty() ? "output" : type;
  if (!is_safe_output_name(filename)) {
    error = "'" + filename + "': refused, not a plain file name";
    return std::nullopt;
  }
  if (type != "output" && type != "temp") {
    error = filename + ": unknown type '" + type + "'";
    return std::nullopt;
  }
  net::client_result result =
      http.fetch("GET",
                 "/view?filename=" + percent_encode(filename) +
                     "&subfolder=" + percent_encode(subfolder) + "&type=" + type,
                 "", 300s, std::size_t{4} << 30);
  if (!is_success(result)) {
    error = filename + ": " + failure_reason(result);
    return std::nullopt;
  }
  return std::move(result.body);
}

void download_outputs(master_http& http, const json& job, run_report& report) {
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  const json outputs = object_field(job, "outputs");  // items() only refers to it
  for (const auto& [node_id, ui] : outputs.items()) {
    for (const auto& image : array_field(ui, "images")) {
      if (interrupted()) {
        return;
      }
      const std::string filename = text_field(image, "filename");
      std::string type = text_field(image, "type");
      if (!seen.emplace(filename, text_field(image, "subfolder"), type).second) {
        continue;
      }
      std::string error;
      const std::optional<std::string> bytes = fetch_image(http, image, error);
      if (!bytes) {
        error += " (node " + node_id + ")";
        report.download_errors.push_back(error);
        continue;
      }
      try {
        report.saved.push_back(save_new_file(report.out_dir, filename, *bytes));
      } catch (const std::exception& e) {
        report.download_errors.push_back(e.what());
      }
    }
  }
}

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

}  // namespace comfydist::cli
