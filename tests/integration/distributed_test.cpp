// Distributed execution end to end: a master and three native workers on loopback.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "cluster_harness.hpp"
#include "common/uuid.hpp"
#include "image/codecs.hpp"
#include "process_util.hpp"

namespace comfydist::testing {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// What worker `w` makes for one seed, run there directly: EmptyImage → ImageAddNoise → SaveImage.
image::pixel_image single_worker_image(worker_process& w, std::int64_t seed) {
  json p = json::object();
  p["1"] = {{"class_type", "EmptyImage"},
            {"inputs", {{"width", 24}, {"height", 16}, {"batch_size", 1}, {"color", 0}}}};
  p["4"] = {{"class_type", "ImageAddNoise"},
            {"inputs", {{"image", {"1", 0}}, {"seed", seed}, {"strength", 0.5}}}};
  p["6"] = {{"class_type", "SaveImage"},
            {"inputs", {{"images", {"4", 0}}, {"filename_prefix", "ref"}}}};
  const std::string client = make_uuid4();
  ws_listener ws(w.port(), client);
  const auto answer = w.post_json("/prompt", {{"prompt", p}, {"client_id", client}});
  EXPECT_EQ(answer.status, 200) << answer.body;
  const std::string id = json::parse(answer.body)["prompt_id"];
  ws.until_done(id);
  const json history = json::parse(w.get("/history/" + id).body);
  return view_image(w.port(), history[id]["outputs"]["6"]["images"][0]);
}

std::vector<json> output_images(const json& job, const std::string& node) {
  std::vector<json> out;
  if (job["outputs"].contains(node)) {
    for (const auto& image : job["outputs"][node]["images"]) {
      out.push_back(image);
    }
  }
  return out;
}

TEST(Distributed, FanOutOfEightGivesEachUnitsSeededImage) {
  cluster c;
  json body = {{"prompt", fan_out_prompt(100, 0)}, {"count", 8}, {"client_id", "t"}};
  const std::string id = queue_job(c.master(), body);
  const json job = wait_job(c.master(), id);
  ASSERT_EQ(job["state"], "done") << job.dump(2);
  ASSERT_EQ(job["mode"], "fan_out");
  ASSERT_EQ(job["units"].size(), 8U);
  const auto images = output_images(job, "6");
  ASSERT_EQ(images.size(), 8U) << job["outputs"].dump();
  std::set<std::vector<std::uint8_t>> distinct;
  std::set<std::string> used_workers;
  for (std::size_t j = 0; j < images.size(); ++j) {
    const auto got = view_image(c.master().port(), images[j]);
    const auto expected = single_worker_image(c.worker(0), 100 + static_cast<int>(j));
    ASSERT_EQ(got.width, expected.width);
    ASSERT_EQ(got.height, expected.height);
    EXPECT_EQ(got.pixels, expected.pixels) << "unit " << j << " is not seed " << 100 + j;
    distinct.insert(got.pixels);
    used_workers.insert(job["units"][j]["worker_id"].get<std::string>());
  }
  EXPECT_EQ(distinct.size(), 8U);
  EXPECT_GE(used_workers.size(), 2U) << "8 units should spread over the 3 workers";
  // The same job in history, in ComfyUI's shape.
  const json history = json::parse(c.master().request("GET", "/history/" + id).body);
  EXPECT_EQ(history[id]["status"]["status_str"], "success");
  EXPECT_EQ(history[id]["outputs"]["6"]["images"].size(), 8U);
}

TEST(Distributed, KilledWorkerLosesOnlyItsUnits) {
  cluster c({3, {}, {"--enable-test-nodes"}, json::object()});
  json body = {{"prompt", fan_out_prompt(7, 1500, "kill")}, {"count", 8}};
  const std::string id = queue_job(c.master(), body);
  // Wait until worker 1 runs something, then kill it without a word.
  wait_job_until(
      c.master(), id,
      [&](const json& job) {
        for (const auto& u : job["units"]) {
          if (u["state"] == "dispatched" && u["worker_id"] == c.worker_id(1)) {
            return true;
          }
        }
        return false;
      },
      20s, "a unit on worker 1");
  c.worker(1).kill9();
  const json job = wait_job(c.master(), id, 120s);
  ASSERT_EQ(job["state"], "done") << job.dump(2);
  const auto images = output_images(job, "6");
  ASSERT_EQ(images.size(), 8U);
  bool retried = false;
  for (const auto& u : job["units"]) {
    EXPECT_EQ(u["state"], "done");
    EXPECT_NE(u["worker_id"], c.worker_id(1)) << "a unit finished on the dead worker";
    for (const auto& e : u["errors"]) {
      retried = true;
      EXPECT_EQ(e["worker_id"], c.worker_id(1)) << e.dump();
    }
  }
  EXPECT_TRUE(retried) << "no unit was re-queued";
  std::set<std::vector<std::uint8_t>> distinct;
  for (const auto& image : images) {
    distinct.insert(view_image(c.master().port(), image).pixels);
  }
  EXPECT_EQ(distinct.size(), 8U) << "an image is duplicated";
  // Nothing else was written: eight files with the job's prefix.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(c.master().data_dir() / "data" / "output")) {
    files += entry.path().filename().string().rfind("kill_", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(files, 8);
}

TEST(Distributed, MasterKilledMidJobFinishesAfterRestart) {
  cluster c({2, {}, {"--enable-test-nodes"}, json::object()});
  json body = {{"prompt", fan_out_prompt(50, 800, "restart")}, {"count", 6}};
  const std::string id = queue_job(c.master(), body);
  wait_job_until(
      c.master(), id,
      [](const json& job) {
        int done = 0;
        for (const auto& u : job["units"]) {
          done += u["state"] == "done" ? 1 : 0;
        }
        return done >= 1 && done < 6;
      },
      30s, "some units done");
  c.master().kill9();
  c.restart_master();
  const json job = wait_job(c.master(), id, 120s);
  EXPECT_EQ(job["state"], "done") << job.dump(2);
  EXPECT_EQ(output_images(job, "6").size(), 6U);
  const json history = json::parse(c.master().request("GET", "/history/" + id).body);
  EXPECT_EQ(history[id]["status"]["status_str"], "success");
}

TEST(Distributed, WorkerWithoutTheNodesIsSkippedWithTheReason) {
  cluster c({3, {{"--enable-test-nodes"}, {"--enable-test-nodes"}, {}}, {}, json::object()});
  json body = {{"prompt", fan_out_prompt(3, 50, "skip")}, {"count", 6}};
  const std::string id = queue_job(c.master(), body);
  const json job = wait_job(c.master(), id);
  ASSERT_EQ(job["state"], "done") << job.dump(2);
  ASSERT_TRUE(job["skipped_workers"].contains(c.worker_id(2))) << job.dump(2);
  EXPECT_NE(job["skipped_workers"][c.worker_id(2)].get<std::string>().find("DebugDelay"),
            std::string::npos);
  for (const auto& u : job["units"]) {
    EXPECT_NE(u["worker_id"], c.worker_id(2));
  }
  // Asked to use only that worker, the job is refused up front, naming what is missing.
  body["workers"] = json::array({c.worker_id(2)});
  const auto refused = c.master().request_json("POST", "/distributed/queue", body);
  EXPECT_EQ(refused.status, 400) << refused.body;
  const json error = json::parse(refused.body);
  EXPECT_EQ(error["error"]["type"], "no_capable_worker");
  EXPECT_NE(error["error"]["details"].get<std::string>().find("DebugDelay"), std::string::npos);
  EXPECT_TRUE(error["node_errors"].is_object());
}

TEST(Distributed, FiftyPromptsFromFiveClientsSpreadOverTheWorkers) {
  cluster c;
  std::vector<std::string> ids(50);
  std::vector<std::thread> clients;
  for (int k = 0; k < 5; ++k) {
    clients.emplace_back([&, k] {
      for (int i = 0; i < 10; ++i) {
        json p = json::object();
        p["1"] = {{"class_type", "EmptyImage"},
                  {"inputs", {{"width", 8}, {"height", 8}, {"batch_size", 1}, {"color", k}}}};
        p["2"] = {{"class_type", "DebugDelay"},
                  {"inputs", {{"images", {"1", 0}}, {"milliseconds", 100}, {"seed", i}}}};
        p["3"] = {{"class_type", "PreviewImage"}, {"inputs", {{"images", {"2", 0}}}}};
        const auto answer = c.master().request_json(
            "POST", "/prompt", {{"prompt", p}, {"client_id", "client-" + std::to_string(k)}});
        ASSERT_EQ(answer.status, 200) << answer.body;
        ids[static_cast<std::size_t>(k * 10 + i)] = json::parse(answer.body)["prompt_id"];
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  std::map<std::string, int> per_worker;
  for (const auto& id : ids) {
    ASSERT_FALSE(id.empty());
    const json job = wait_job(c.master(), id);
    ASSERT_EQ(job["state"], "done") << job.dump(2);
    ASSERT_EQ(job["mode"], "single");
    per_worker[job["units"][0]["worker_id"]] += 1;
  }
  ASSERT_EQ(per_worker.size(), 3U);
  for (const auto& [worker, n] : per_worker) {
    EXPECT_GE(n, 5) << "worker " << worker << " got only " << n << " of 50";
  }
  const json history = json::parse(c.master().request("GET", "/history").body);
  EXPECT_EQ(history.size(), 50U);
}

TEST(Distributed, StockClientQueuesListensAndDownloads) {
  cluster c({1, {}, {"--enable-test-nodes"}, json::object()});
  const std::string client = make_uuid4();
  ws_listener ws(c.master().port(), client);
  json p = fan_out_prompt(11, 0, "stock");
  const auto answer =
      c.master().request_json("POST", "/prompt", {{"prompt", p}, {"client_id", client}});
  ASSERT_EQ(answer.status, 200) << answer.body;
  const json queued = json::parse(answer.body);
  EXPECT_TRUE(queued.contains("number"));
  EXPECT_TRUE(queued["node_errors"].is_object());
  const std::string id = queued["prompt_id"];
  const auto messages = ws.until_done(id);
  const auto types = types_of(messages);
  EXPECT_NE(std::find(types.begin(), types.end(), "execution_start"), types.end());
  EXPECT_NE(std::find(types.begin(), types.end(), "execution_success"), types.end());
  EXPECT_NE(std::find(types.begin(), types.end(), "distributed_unit"), types.end());
  json executed;
  for (const auto& m : messages) {
    if (m["type"] == "executed" && m["data"]["node"] == "6") {
      executed = m["data"];
    }
  }
  ASSERT_FALSE(executed.is_null()) << json(messages).dump();
  const auto image = view_image(c.master().port(), executed["output"]["images"][0]);
  EXPECT_EQ(image.width, 24);
  const json history = json::parse(c.master().request("GET", "/history/" + id).body);
  EXPECT_EQ(history[id]["status"]["status_str"], "success");
  EXPECT_EQ(history[id]["prompt"][1], id);
  // The master lists what its workers offer plus the distributed nodes.
  const json info = json::parse(c.master().request("GET", "/object_info").body);
  for (const char* name : {"DistributedSeed", "DistributedCollector", "DistributedValue",
                           "ImageBatchDivider", "DebugDelay", "SaveImage"}) {
    EXPECT_TRUE(info.contains(name)) << name;
  }
  const json stats = json::parse(c.master().request("GET", "/system_stats").body);
  EXPECT_TRUE(stats["devices"].is_array());
}

TEST(Distributed, BadInputGetsComfyUIErrors) {
  cluster c({1, {}, {"--enable-test-nodes"}, json::object()});
  auto& m = c.master();
  // Unknown node class.
  json p = {{"1", {{"class_type", "NoSuchNode"}, {"inputs", json::object()}}}};
  auto answer = m.request_json("POST", "/prompt", {{"prompt", p}});
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(json::parse(answer.body)["error"]["type"], "missing_node_type") << answer.body;
  // A collector without images.
  p = fan_out_prompt(1, 0);
  p["5"]["inputs"].erase("images");
  answer = m.request_json("POST", "/distributed/queue", {{"prompt", p}});
  EXPECT_EQ(answer.status, 400) << answer.body;
  EXPECT_TRUE(json::parse(answer.body).contains("node_errors")) << answer.body;
  // Counts out of range.
  for (const int count : {0, 1001}) {
    answer = m.request_json("POST", "/distributed/queue",
                            {{"prompt", fan_out_prompt(1, 0)}, {"count", count}});
    EXPECT_EQ(answer.status, 400) << answer.body;
    EXPECT_EQ(json::parse(answer.body)["error"]["type"], "invalid_count");
  }
  // A LoadImage of a file the master does not have.
  p = {{"1", {{"class_type", "LoadImage"}, {"inputs", {{"image", "missing.png"}}}}},
       {"2", {{"class_type", "PreviewImage"}, {"inputs", {{"images", {"1", 0}}}}}}};
  answer = m.request_json("POST", "/prompt", {{"prompt", p}});
  EXPECT_EQ(answer.status, 400) << answer.body;
  EXPECT_TRUE(json::parse(answer.body)["node_errors"].contains("1")) << answer.body;
  // Unknown worker ids, malformed bodies.
  answer = m.request_json("POST", "/distributed/queue",
                          {{"prompt", fan_out_prompt(1, 0)}, {"workers", {"nope"}}});
  EXPECT_EQ(answer.status, 400);
  answer = m.request("POST", "/distributed/queue", "{not json");
  EXPECT_EQ(answer.status, 400);
  answer = m.request("GET", "/distributed/jobs/unknown");
  EXPECT_EQ(answer.status, 404);
  answer = m.request("POST", "/distributed/jobs/unknown/cancel");
  EXPECT_EQ(answer.status, 404);
}

TEST(Distributed, LoadImageInputsAreUploadedOnceByContent) {
  cluster c({1, {}, {"--enable-test-nodes"}, json::object()});
  auto& m = c.master();
  const std::string png = make_png(5, 4, 3, 200);
  const std::string boundary = "b0undary";
  const std::string form = "--" + boundary +
                           "\r\nContent-Disposition: form-data; name=\"image\"; "
                           "filename=\"in.png\"\r\nContent-Type: image/png\r\n\r\n" +
                           png + "\r\n--" + boundary + "--\r\n";
  auto answer = m.request("POST", "/upload/image", form,
                          {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
  ASSERT_EQ(answer.status, 200) << answer.body;
  json p = {{"1", {{"class_type", "LoadImage"}, {"inputs", {{"image", "in.png"}}}}},
            {"2", {{"class_type", "ImageInvert"}, {"inputs", {{"image", {"1", 0}}}}}},
            {"3",
             {{"class_type", "SaveImage"},
              {"inputs", {{"images", {"2", 0}}, {"filename_prefix", "inv"}}}}}};
  for (int round = 0; round < 2; ++round) {
    const std::string id = queue_job(m, {{"prompt", p}});
    const json job = wait_job(m, id);
    ASSERT_EQ(job["state"], "done") << job.dump(2);
    const auto image = view_image(m.port(), output_images(job, "3").at(0));
    EXPECT_EQ(image.width, 5);
    EXPECT_NEAR(image.pixels[0], 255 - 200, 1);  // inverted; 8-bit saving truncates
  }
  int copies = 0;
  for (const auto& entry : fs::directory_iterator(c.worker(0).data_dir() / "data" / "input")) {
    copies += entry.path().filename().string().rfind("cd-", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(copies, 1);
}

TEST(Distributed, CancelStopsTheJobOnTheWorkers) {
  cluster c({2, {}, {"--enable-test-nodes"}, json::object()});
  const std::string id =
      queue_job(c.master(), {{"prompt", fan_out_prompt(1, 5000, "cancel")}, {"count", 4}});
  wait_job_until(
      c.master(), id, [](const json& job) { return job["state"] == "running"; }, 20s, "running");
  const auto answer = c.master().request("POST", "/distributed/jobs/" + id + "/cancel");
  EXPECT_EQ(answer.status, 200) << answer.body;
  const json job = wait_job(c.master(), id, 10s);
  EXPECT_EQ(job["state"], "cancelled");
  // The workers' queues empty quickly: their prompts were interrupted.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int remaining = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    remaining = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
      remaining +=
          json::parse(c.worker(i).get("/prompt").body)["exec_info"]["queue_remaining"].get<int>();
    }
    if (remaining == 0) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(remaining, 0);
  EXPECT_EQ(c.master().request("POST", "/distributed/jobs/" + id + "/cancel").status, 409);
}

TEST(Distributed, RunCommandEndToEnd) {
  cluster c({2, {}, {"--enable-test-nodes"}, json::object()});
  const fs::path dir = c.master().data_dir() / "cli";
  fs::create_directories(dir / "out");
  std::ofstream(dir / "wf.json") << fan_out_prompt(5, 0, "cli").dump();
  const auto result = run_comfydist({"run", (dir / "wf.json").string(), "--master",
                                     "http://127.0.0.1:" + std::to_string(c.master().port()),
                                     "--count", "3", "--out", (dir / "out").string()},
                                    60s);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir / "out")) {
    files += entry.path().extension() == ".png" ? 1 : 0;
  }
  EXPECT_EQ(files, 3) << result.output;
  // Without a master the CLI says how to start one.
  const auto none =
      run_comfydist({"run", (dir / "wf.json").string(), "--master", "http://127.0.0.1:1"}, 20s);
  EXPECT_EQ(none.exit_code, 3) << none.output;
  EXPECT_NE(none.output.find("comfydist serve"), std::string::npos) << none.output;
}

TEST(Distributed, StalledUnitIsRetriedThenTheJobEndsPartial) {
  json settings = {{"worker_timeout_seconds", 5}, {"max_attempts_per_unit", 2}};
  cluster c({2, {}, {"--enable-test-nodes"}, settings});
  // Unit 1 sleeps 10 minutes without a word (a worker that accepted the prompt and hangs);
  // unit 0 is quick.
  json p = json::object();
  p["1"] = {{"class_type", "EmptyImage"},
            {"inputs", {{"width", 8}, {"height", 8}, {"batch_size", 1}, {"color", 0}}}};
  p["2"] = {
      {"class_type", "DistributedValue"},
      {"inputs",
       {{"default_value", "0"}, {"worker_values", R"({"_type": "INT", "1": 0, "2": 600000})"}}}};
  p["3"] = {{"class_type", "DebugDelay"},
            {"inputs",
             {{"images", {"1", 0}}, {"milliseconds", {"2", 0}}, {"seed", 0}, {"silent", true}}}};
  p["4"] = {{"class_type", "DistributedCollector"},
            {"inputs", {{"images", {"3", 0}}, {"load_balance", false}}}};
  p["5"] = {{"class_type", "SaveImage"},
            {"inputs", {{"images", {"4", 0}}, {"filename_prefix", "stall"}}}};
  const std::string id = queue_job(c.master(), {{"prompt", p}, {"count", 2}});
  const json job = wait_job(c.master(), id, 60s);
  ASSERT_EQ(job["state"], "partial") << job.dump(2);
  EXPECT_EQ(job["units"][0]["state"], "done");
  EXPECT_EQ(job["units"][1]["state"], "failed");
  ASSERT_EQ(job["units"][1]["errors"].size(), 2U);
  for (const auto& e : job["units"][1]["errors"]) {
    EXPECT_NE(e["message"].get<std::string>().find("no progress"), std::string::npos) << e;
  }
  EXPECT_NE(job["error"].get<std::string>().find("unit 1"), std::string::npos) << job["error"];
  EXPECT_EQ(output_images(job, "5").size(), 1U);
  const json history = json::parse(c.master().request("GET", "/history/" + id).body);
  EXPECT_EQ(history[id]["status"]["status_str"], "partial");
  // Retrying the failed unit runs it again (and it stalls again).
  EXPECT_EQ(c.master().request("POST", "/distributed/jobs/" + id + "/retry").status, 200);
  EXPECT_EQ(c.master().request("POST", "/distributed/jobs/" + id + "/cancel").status, 200);
}

// tests/integration/corrupt_worker.py: accepts units and serves garbage instead of images.
class corrupt_worker {
 public:
  explicit corrupt_worker(std::uint16_t upstream_port) {
    dir_ = make_temp_dir("comfydist-corrupt");
    const std::string log = (dir_ / "log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const std::string script =
          std::string(COMFYDIST_SOURCE_DIR) + "/tests/integration/corrupt_worker.py";
      const std::string port = std::to_string(upstream_port);
      ::execl("/usr/bin/python3", "python3", script.c_str(), port.c_str(), nullptr);
      ::_exit(127);
    }
    const std::regex ready("ready on port ([0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch match;
      const std::string text = read_all(log);
      if (std::regex_search(text, match, ready)) {
        port_ = static_cast<std::uint16_t>(std::stoi(match[1]));
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("corrupt_worker.py did not start: " + read_all(log));
  }
  ~corrupt_worker() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  corrupt_worker(const corrupt_worker&) = delete;
  corrupt_worker& operator=(const corrupt_worker&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

TEST(Distributed, CorruptImagesFailTheUnitWhichIsRetriedElsewhere) {
  worker_process good({"--enable-test-nodes"});
  corrupt_worker bad(good.port());
  json config = test_config();
  config["workers"].push_back(remote_worker("good", "127.0.0.1", good.port()));
  config["workers"].push_back(remote_worker("bad", "127.0.0.1", bad.port()));
  const std::string good_id = config["workers"][0]["id"];
  const std::string bad_id = config["workers"][1]["id"];
  master_process master({config, std::nullopt, {}});
  master.wait_state(good_id, "idle");
  master.wait_state(bad_id, "idle");
  const std::string id =
      queue_job(master, {{"prompt", fan_out_prompt(9, 0, "corrupt")}, {"count", 4}});
  const json job = wait_job(master, id, 60s);
  ASSERT_EQ(job["state"], "done") << job.dump(2);
  EXPECT_EQ(output_images(job, "6").size(), 4U);
  int corrupt_errors = 0;
  for (const auto& u : job["units"]) {
    EXPECT_EQ(u["worker_id"], good_id);
    for (const auto& e : u["errors"]) {
      EXPECT_EQ(e["worker_id"], bad_id);
      corrupt_errors += e["message"].get<std::string>().find("corrupt image") != std::string::npos;
    }
  }
  EXPECT_GE(corrupt_errors, 1) << job.dump(2);
}

TEST(Distributed, SecondMasterOnTheSameDataDirRefusesToStart) {
  master_process first({test_config(), std::nullopt, {}});
  try {
    master_process second({nullptr, std::nullopt, {}}, first.data_dir());
    ADD_FAILURE() << "a second master started on the same data dir";
  } catch (const std::runtime_error& ex) {
    EXPECT_NE(std::string(ex.what()).find("another comfydist master"), std::string::npos)
        << ex.what();
  }
  EXPECT_TRUE(first.alive());
  EXPECT_EQ(first.request("GET", "/prompt").status, 200);
}

}  // namespace
}  // namespace comfydist::testing
