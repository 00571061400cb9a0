// Test harness for distributed execution: N native workers (the real binary) registered as remote
// workers of one master, plus helpers to queue jobs, wait for them and read their images.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "image/pixel_image.hpp"
#include "master_process.hpp"
#include "worker_process.hpp"

namespace comfydist::testing {

struct cluster_options {
  int workers = 3;
  // Extra arguments per worker (index i gets worker_args[i] if present, else `all_worker_args`).
  std::vector<std::vector<std::string>> worker_args;
  std::vector<std::string> all_worker_args{"--enable-test-nodes"};
  json settings = json::object();  // merged into the master's settings
};

class cluster {
 public:
  explicit cluster(cluster_options options = {});

  master_process& master() { return *master_; }
  worker_process& worker(std::size_t i) { return *workers_[i]; }
  const std::string& worker_id(std::size_t i) const { return worker_ids_[i]; }
  std::size_t size() const { return workers_.size(); }
  void wait_all_idle(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void restart_master();  // after master().kill9(): a new master on the same data dir

 private:
  json config_;
  std::vector<std::unique_ptr<worker_process>> workers_;
  std::vector<std::string> worker_ids_;
  std::unique_ptr<master_process> master_;
  std::filesystem::path master_dir_;
};

// POST /distributed/queue; fails the test unless 200. Returns the prompt_id.
std::string queue_job(master_process& master, const json& body);
// Polls GET /distributed/jobs/{id} until the job is finished; returns the last document.
json wait_job(master_process& master, const std::string& id,
              std::chrono::milliseconds timeout = std::chrono::seconds(90));
// Polls until `ok(job)`; returns the job.
json wait_job_until(master_process& master, const std::string& id,
                    const std::function<bool(const json&)>& ok, std::chrono::milliseconds timeout,
                    const std::string& what);
// The decoded pixels of an image a server lists (filename, subfolder, type) via its /view.
image::pixel_image view_image(std::uint16_t port, const json& image);

// EmptyImage → (DebugDelay ms) → ImageAddNoise(seed) → DistributedCollector → SaveImage("fan"),
// with the seed from a DistributedSeed(seed). delay_ms 0 leaves DebugDelay out.
json fan_out_prompt(std::int64_t seed, int delay_ms, const std::string& prefix = "fan");

}  // namespace comfydist::testing
