// `comfydist upscale IMAGE --model NAME`: one big image upscaled in tiles on every worker of a
// running master (docs/tiles.md). Uploads the image, queues LoadImage → UpscaleModelLoader →
// ImageUpscaleWithModel → SaveImage with the tile options, follows the tiles with a bar each
// (and the worker running it), and saves the blended result.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>

#include "cli/cli_common.hpp"
#include "cli/job_follow.hpp"
#include "cli/job_view.hpp"
#include "cli/output_files.hpp"
#include "common/file_io.hpp"
#include "net/auth_token.hpp"

namespace comfydist::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr const char* kSaveNode = "4";
// Uploads past this are refused by the master anyway; saying so here is clearer.
constexpr std::uintmax_t kMaxUploadBytes = std::uintmax_t{512} << 20;

struct upscale_args {
  std::string image;
  std::string model;
  int tile = 512;
  int overlap = 64;
  std::string feather = "linear";
  std::string out;
  std::string master = "http://127.0.0.1:8188";
  std::string token_file;
  double timeout_s = 0;
};

// POST /upload/image; returns the name the master stored it under (it renames on a clash).
std::string upload(master_http& http, const std::string& bytes, const std::string& filename) {
  std::mt19937_64 random(std::random_device{}());
  const std::string boundary = "comfydist" + std::to_string(random());
  std::string body = "--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + filename +
                     "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + bytes + "\r\n--" +
                     boundary + "--\r\n";
  const net::client_result result =
      http.fetch("POST", "/upload/image", std::move(body), 300s, std::size_t{1} << 20,
                 "multipart/form-data; boundary=" + boundary);
  if (!result.ok) {
    throw run_failure{kExitNoMaster, no_master_message(http.url()) + "\n  (" + result.error + ")"};
  }
  if (result.status == 400 || result.status == 413 || result.status == 401 ||
      result.status == 403) {
    throw run_failure{kExitBadInput, "the master refused the image: " + failure_reason(result)};
  }
  if (!is_success(result)) {
    throw run_failure{kExitFailed, "uploading the image: " + failure_reason(result)};
  }
  json answer;
  try {
    answer = json::parse(result.body);
  } catch (const std::exception&) {
  }
  const std::string name = text_field(answer, "name");
  if (name.empty()) {
    throw run_failure{kExitFailed, "the master's answer to the upload names no file"};
  }
  const std::string subfolder = text_field(answer, "subfolder");
  return subfolder.empty() ? name : subfolder + "/" + name;
}

json upscale_prompt(const std::string& image, const std::string& model) {
  json p = json::object();
  p["1"] = {{"class_type", "LoadImage"}, {"inputs", {{"image", image}}}};
  p["2"] = {{"class_type", "UpscaleModelLoader"}, {"inputs", {{"model_name", model}}}};
  p["3"] = {{"class_type", "ImageUpscaleWithModel"},
            {"inputs", {{"upscale_model", {"2", 0}}, {"image", {"1", 0}}}}};
  p[kSaveNode] = {{"class_type", "SaveImage"},
                  {"inputs", {{"images", {"3", 0}}, {"filename_prefix", "upscaled"}}}};
  return p;
}

// --out, or IMAGE's name with "-upscaled.png" in the current folder.
fs::path out_path(const upscale_args& args) {
  if (!args.out.empty()) {
    return args.out;
  }
  return fs::path(fs::path(args.image).stem().string() + "-upscaled.png");
}

int upscale(const CLI::App& cmd, const upscale_args& args) {
  if (cmd.count("--timeout") > 0 && !(args.timeout_s > 0)) {
    throw run_failure{kExitBadInput, "--timeout must be a number of seconds above 0"};
  }
  std::error_code error;
  const auto size = fs::file_size(args.image, error);
  if (error || !fs::is_regular_file(args.image)) {
    throw run_failure{kExitBadInput, "cannot read the image '" + args.image + "'" +
                                         (error ? ": " + error.message() : std::string())};
  }
  if (size > kMaxUploadBytes) {
    throw run_failure{kExitBadInput, "the image '" + args.image + "' is larger than 512 MiB"};
  }
  const fs::path out = out_path(args);
  const fs::path out_dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  if (!fs::is_directory(out_dir, error)) {
    throw run_failure{kExitBadInput,
                      "the folder of --out '" + out_dir.string() + "' does not exist"};
  }
  std::optional<std::string> token;
  if (!args.token_file.empty()) {
    try {
      token = net::read_auth_token(args.token_file);
    } catch (const std::exception& e) {
      throw run_failure{kExitBadInput, e.what()};
    }
  }
  std::unique_ptr<master_http> http;
  try {
    http = std::make_unique<master_http>(args.master, token);
  } catch (const std::invalid_argument& e) {
    throw run_failure{kExitBadInput, e.what()};
  }

  interrupt_guard guard;
  const auto start = steady::now();
  const std::string name =
      upload(*http, read_file(args.image), fs::path(args.image).filename().string());
  json body = json::object();
  body["prompt"] = upscale_prompt(name, args.model);
  body["tiles"] = {{"tile", args.tile}, {"overlap", args.overlap}, {"feather", args.feather}};
  const std::string id = submit_job(*http, std::move(body));
  const bool terminal = isatty(STDOUT_FILENO) != 0 && std::getenv("TERM") != nullptr &&
                        std::string(std::getenv("TERM")) != "dumb";
  std::printf("queued tiled upscale %s on %s\n", id.c_str(), http->url().c_str());
  std::fflush(stdout);
  progress_display display(stdout, terminal);
  wait_end end = wait_end::finished;
  const json job = follow_job(*http, id, args.timeout_s, display, end);
  if (end != wait_end::finished) {
    std::fprintf(stderr, "%s: cancelling job %s\n",
                 end == wait_end::interrupted ? "interrupted" : "timed out", id.c_str());
    cancel_job(*http, id);
    return end == wait_end::interrupted ? kExitInterrupted : kExitFailed;
  }
  run_report report;
  report.out_dir = out_dir;
  report.elapsed_s = std::chrono::duration<double>(steady::now() - start).count();
  report.worker_names = worker_names(*http, job);
  const json images = array_field(object_field(object_field(job, "outputs"), kSaveNode), "images");
  if (text_field(job, "state") != "done" || images.empty()) {
    std::printf("%s", job_summary(job, report).c_str());
    std::fprintf(stderr, "error: job %s %s%s\n", id.c_str(), text_field(job, "state").c_str(),
                 text_field(job, "error").empty() ? "" : (": " + text_field(job, "error")).c_str());
    return kExitFailed;
  }
  std::string fetch_error;
  const std::optional<std::string> bytes = fetch_image(*http, images[0], fetch_error);
  if (!bytes) {
    std::fprintf(stderr, "error: %s\n", fetch_error.c_str());
    return kExitFailed;
  }
  try {
    report.saved.push_back(save_new_file(out_dir, out.filename().string(), *bytes));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailed;
  }
  std::printf("%s", job_summary(job, report).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

subcommand add_upscale_command(CLI::App& app) {
  auto args = std::make_shared<upscale_args>();
  auto* cmd = app.add_subcommand(
      "upscale", "Upscale one image in tiles on every worker and save the blended result");
  cmd->add_option("image", args->image, "The image (PNG, JPEG or WebP)")->required();
  cmd->add_option("--model", args->model,
                  "Upscale model, as UpscaleModelLoader lists it (e.g. esrgan-thick-x4)")
      ->required();
  cmd->add_option("--tile", args->tile, "Tile side in input pixels")->capture_default_str();
  cmd->add_option("--overlap", args->overlap, "Pixels shared by neighbouring tiles")
      ->capture_default_str();
  cmd->add_option("--feather", args->feather, "Weight ramp across an overlap")
      ->check(CLI::IsMember({"linear", "cosine"}))
      ->capture_default_str();
  cmd->add_option("--out", args->out,
                  "File to save the result as (default: IMAGE-upscaled.png here; never "
                  "overwritten, a number is added instead)");
  cmd->add_option("--master", args->master, "The master's URL")->capture_default_str();
  cmd->add_option("--timeout", args->timeout_s,
                  "Give up after S seconds and cancel the job (default: wait until it ends)");
  cmd->add_option("--auth-token-file,--token-file", args->token_file,
                  "File with the master's auth token (its --auth-token-file)");
  auto run = [cmd, args] {
    try {
      return upscale(*cmd, *args);
    } catch (const run_failure& failure) {
      std::fprintf(stderr, "error: %s\n", failure.message.c_str());
      return failure.code;
    }
  };
  return {cmd, run};
}

}  // namespace comfydist::cli
