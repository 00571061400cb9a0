// Local workers supervised by a real `comfydist serve`: first start, launch and stop, crash
// restarts, and workers ending with a killed master.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "master_process.hpp"

namespace comfydist::testing {
namespace {

using namespace std::chrono_literals;

bool loopback_port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return free;
}

// distributed_worker_status messages on the master's /ws until one for `id` satisfies `ok`.
bool wait_status_message(net::websocket_client& ws, const std::string& id,
                         const std::function<bool(const json&)>& ok,
                         std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto message = ws.receive(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
    if (!message) {
      return false;
    }
    const json parsed = json::parse(message->data);
    if (parsed["type"] == "distributed_worker_status" && parsed["data"]["id"] == id &&
        ok(parsed["data"])) {
      return true;
    }
  }
  return false;
}

TEST(MasterFirstStart, AddsALocalWorkerAndLaunchesIt) {
  if (!loopback_port_free(8189)) {
    GTEST_SKIP() << "port 8189 is taken on this machine; the first-start ports are fixed";
  }
  master_process master;  // no comfydist.json: a first start
  net::websocket_client ws("127.0.0.1", master.port(), "/ws");
  // ComfyUI's status greeting first, then the workers as they are.
  const auto hello = ws.receive(5s);
  ASSERT_TRUE(hello);
  const json status = json::parse(hello->data);
  ASSERT_EQ(status["type"], "status");
  EXPECT_TRUE(status["data"]["sid"].is_string());
  const auto next = ws.receive(5s);
  ASSERT_TRUE(next);
  const json snapshot = json::parse(next->data);
  ASSERT_EQ(snapshot["type"], "distributed_workers");

  const json workers = master.workers();
  ASSERT_GE(workers.size(), 1U);
  const json& first = workers[0];
  EXPECT_EQ(first["type"], "local");
  EXPECT_EQ(first["port"], 8189);
  EXPECT_EQ(first["engine"], "native");
  const std::string id = first["id"];
  const bool idle_before = snapshot["data"]["workers"][0]["state"] == "idle";
  const json idle = master.wait_state(id, "idle", 30s);
  EXPECT_TRUE(idle["pid"].is_number_integer());
  if (!idle_before) {
    EXPECT_TRUE(wait_status_message(
        ws, id, [](const json& w) { return w["state"] == "idle"; }, 10s));
  } else {
    // Already idle before we listened: a stop shows that changes are still announced.
    ASSERT_EQ(master.request("POST", "/distributed/workers/" + id + "/stop").status, 200);
    EXPECT_TRUE(wait_status_message(
        ws, id, [](const json& w) { return w["state"] == "stopped"; }, 15s));
  }
  // Recorded so that deleting the workers does not bring them back.
  const json config = json::parse(master.request("GET", "/distributed/config").body);
  EXPECT_EQ(config["settings"]["has_auto_populated_workers"], true);
  // Its log has the header line.
  const auto log = master.request("GET", "/distributed/workers/" + id + "/log?lines=100");
  ASSERT_EQ(log.status, 200);
  EXPECT_NE(log.body.find("=== comfydist: starting worker"), std::string::npos) << log.body;
}

TEST(MasterLocal, LaunchStopAndDelete) {
  json config = test_config();
  config["workers"].push_back(local_worker("launch me", free_port()));
  const std::string id = config["workers"][0]["id"];
  master_process master({config, std::nullopt, {"--no-auto-launch"}});
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(master.worker(id)["state"], "stopped");

  auto response = master.request("POST", "/distributed/workers/" + id + "/launch");
  ASSERT_EQ(response.status, 200) << response.body;
  const json idle = master.wait_state(id, "idle");
  ASSERT_TRUE(idle["pid"].is_number_integer());
  const pid_t pid = idle["pid"];
  EXPECT_FALSE(idle["devices"].empty()) << idle.dump();

  response = master.request("POST", "/distributed/workers/" + id + "/stop");
  ASSERT_EQ(response.status, 200) << response.body;
  master.wait_state(id, "stopped", 15s);
  EXPECT_TRUE(process_gone(pid));
  response = master.request("POST", "/distributed/workers/" + id + "/stop");
  EXPECT_EQ(response.status, 409) << response.body;

  const auto log = master.request("GET", "/distributed/workers/" + id + "/log?lines=5");
  ASSERT_EQ(log.status, 200);
  EXPECT_LE(json::parse(log.body)["lines"].size(), 5U);
  EXPECT_TRUE(std::filesystem::exists(master.data_dir() / "data" / "logs" / "workers") &&
              !std::filesystem::is_empty(master.data_dir() / "data" / "logs" / "workers"));

  // Deleting a running worker stops it, and the master reaps it (no zombie left behind).
  ASSERT_EQ(master.request("POST", "/distributed/workers/" + id + "/launch").status, 200);
  const pid_t second = master.wait_state(id, "idle")["pid"];
  ASSERT_EQ(master.request("DELETE", "/distributed/workers/" + id).status, 200);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (::kill(second, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(::kill(second, 0), 0) << "the deleted worker's process is still there (or a zombie)";
}

TEST(MasterLocal, KilledWorkerCrashesAndIsRestarted) {
  json config = test_config();
  config["workers"].push_back(local_worker("fragile", free_port()));
  const std::string id = config["workers"][0]["id"];
  master_process master({config, std::nullopt, {}});
  const json idle = master.wait_state(id, "idle");
  ASSERT_TRUE(idle["pid"].is_number_integer());
  const pid_t pid = idle["pid"];
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const json crashed = master.wait_state(id, "crashed", 5s);
  EXPECT_NE(crashed["last_error"].dump().find("signal 9"), std::string::npos) << crashed.dump();
  const json again = master.wait_worker(
      id,
      [pid](const json& w) {
        return w["state"] == "idle" && w["pid"].is_number_integer() && w["pid"] != pid;
      },
      30s, "idle again with a new process");
  EXPECT_NE(again["pid"], pid);
}

TEST(MasterLocal, KilledMasterTakesItsWorkersDown) {
  json config = test_config();
  config["workers"].push_back(local_worker("orphan a", free_port()));
  config["workers"].push_back(local_worker("orphan b", free_port()));
  master_process master({config, std::nullopt, {}});
  std::vector<pid_t> pids;
  for (const auto& w : config["workers"]) {
    const json idle = master.wait_state(w["id"], "idle");
    ASSERT_TRUE(idle["pid"].is_number_integer());
    pids.push_back(idle["pid"]);
  }
  master.kill9();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  bool all_gone = false;
  while (!all_gone && std::chrono::steady_clock::now() < deadline) {
    all_gone = std::all_of(pids.begin(), pids.end(), process_gone);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(all_gone) << "local workers still running 5 s after the master was killed";
}

}  // namespace
}  // namespace comfydist::testing
