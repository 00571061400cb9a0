// A master with several native workers on loopback.
#include "cluster_harness.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "image/codecs.hpp"

namespace comfydist::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

cluster::cluster(cluster_options options) {
  config_ = test_config();
  for (const auto& [key, value] : options.settings.items()) {
    config_["settings"][key] = value;
  }
  for (int i = 0; i < options.workers; ++i) {
    const auto& args = static_cast<std::size_t>(i) < options.worker_args.size()
                           ? options.worker_args[static_cast<std::size_t>(i)]
                           : options.all_worker_args;
    std::vector<std::string> full = args;
    full.push_back("--threads");
    full.push_back("1");
    workers_.push_back(std::make_unique<worker_process>(full));
    config_["workers"].push_back(
        remote_worker("w" + std::to_string(i), "127.0.0.1", workers_.back()->port()));
    worker_ids_.push_back(config_["workers"].back()["id"]);
  }
  master_ = std::make_unique<master_process>(master_setup{config_, std::nullopt, {}});
  master_dir_ = master_->data_dir();
  wait_all_idle();
}

void cluster::wait_all_idle(std::chrono::milliseconds timeout) {
  for (const auto& id : worker_ids_) {
    master_->wait_state(id, "idle", timeout);
  }
}

void cluster::restart_master() {
  master_->keep_dir();
  master_.reset();
  master_ = std::make_unique<master_process>(master_setup{nullptr, std::nullopt, {}}, master_dir_);
  wait_all_idle();
}

std::string queue_job(master_process& master, const json& body) {
  const auto answer = master.request_json("POST", "/distributed/queue", body);
  EXPECT_EQ(answer.status, 200) << answer.body;
  if (answer.status != 200) {
    throw std::runtime_error("queue failed: " + answer.body);
  }
  return json::parse(answer.body)["prompt_id"].get<std::string>();
}

json wait_job_until(master_process& master, const std::string& id,
                    const std::function<bool(const json&)>& ok, std::chrono::milliseconds timeout,
                    const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  json last;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto answer = master.request("GET", "/distributed/jobs/" + id);
    if (answer.status == 200) {
      last = json::parse(answer.body);
      if (ok(last)) {
        return last;
      }
    }
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "job " << id << " never got " << what << "; last: " << last.dump()
                << "\nmaster log:\n"
                << master.log();
  return last;
}

json wait_job(master_process& master, const std::string& id, std::chrono::milliseconds timeout) {
  return wait_job_until(
      master, id,
      [](const json& job) {
        const std::string state = job.value("state", "");
        return state == "done" || state == "partial" || state == "failed" || state == "cancelled";
      },
      timeout, "finished");
}

image::pixel_image view_image(std::uint16_t port, const json& image) {
  const std::string target = "/view?filename=" + image["filename"].get<std::string>() +
                             "&subfolder=" + image.value("subfolder", "") +
                             "&type=" + image.value("type", "output");
  const auto answer = net::http_fetch("127.0.0.1", port, "GET", target);
  if (answer.status != 200) {
    throw std::runtime_error("GET " + target + " → " + std::to_string(answer.status));
  }
  return image::decode_image(answer.body).image;
}

json fan_out_prompt(std::int64_t seed, int delay_ms, const std::string& prefix) {
  json p = json::object();
  p["1"] = {{"class_type", "EmptyImage"},
            {"inputs", {{"width", 24}, {"height", 16}, {"batch_size", 1}, {"color", 0}}}};
  p["2"] = {{"class_type", "DistributedSeed"}, {"inputs", {{"seed", seed}}}};
  std::string source = "1";
  if (delay_ms > 0) {
    p["3"] = {{"class_type", "DebugDelay"},
              {"inputs", {{"images", {"1", 0}}, {"milliseconds", delay_ms}, {"seed", {"2", 0}}}}};
    source = "3";
  }
  p["4"] = {{"class_type", "ImageAddNoise"},
            {"inputs", {{"image", {source, 0}}, {"seed", {"2", 0}}, {"strength", 0.5}}}};
  p["5"] = {{"class_type", "DistributedCollector"},
            {"inputs", {{"images", {"4", 0}}, {"load_balance", false}}}};
  p["6"] = {{"class_type", "SaveImage"},
            {"inputs", {{"images", {"5", 0}}, {"filename_prefix", prefix}}}};
  return p;
}

}  // namespace comfydist::testing
