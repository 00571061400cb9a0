// Test harness for the master: starts `comfydist serve --port 0` with its own data dir (and a
// comfydist.json written beforehand), talks HTTP to it, waits for worker states, and on
// destruction stops the master and every worker process it was seen running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "net/http_client.hpp"

namespace comfydist::testing {

struct master_setup {
  // Written as <data>/comfydist.json before the start, unless null.
  json config = nullptr;
  // Written verbatim instead of `config` when set (a corrupt file).
  std::optional<std::string> raw_config;
  std::vector<std::string> args;  // after `serve --port 0 --data-dir D`
};

// A config with settings for fast tests: probes every 0.5 s, first start already done.
json test_config();
// A local/remote/cloud worker entry for test_config()["workers"].
json local_worker(const std::string& name, int port);
json remote_worker(const std::string& name, const std::string& host, int port,
                   const std::string& type = "remote");
// A loopback TCP port that was free a moment ago.
std::uint16_t free_port();
// Whether the process is gone (not existing, or a zombie nobody reaped yet).
bool process_gone(pid_t pid);

struct command_result {
  int exit_code = -1;  // -1: killed after the timeout
  std::string output;  // stdout and stderr
};
// Runs the comfydist binary with `args` to its end (killed after `timeout`).
command_result run_comfydist(const std::vector<std::string>& args,
                             std::chrono::milliseconds timeout = std::chrono::seconds(20));

class master_process {
 public:
  // With `reuse_dir` (another master's data_dir()), starts on that folder as after a restart and
  // leaves it in place when this master goes away.
  explicit master_process(master_setup setup = {},
                          std::optional<std::filesystem::path> reuse_dir = std::nullopt);
  ~master_process();
  master_process(const master_process&) = delete;
  master_process& operator=(const master_process&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  std::string log() const;
  bool alive();
  // SIGKILL and reap.
  void kill9();
  // Keeps the folder when this master goes away (a successor reuses it).
  void keep_dir() { owns_dir_ = false; }

  net::client_response request(const std::string& method, const std::string& target,
                               const std::string& body = {},
                               std::map<std::string, std::string> headers = {}) const;
  net::client_response request_json(const std::string& method, const std::string& target,
                                    const json& body) const;
  // GET /distributed/workers → the "workers" array; remembers every pid seen.
  json workers();
  json worker(const std::string& id);
  // Polls until `ok(worker)` holds; fails the test (and returns the last JSON) after `timeout`.
  json wait_worker(const std::string& id, const std::function<bool(const json&)>& ok,
                   std::chrono::milliseconds timeout, const std::string& what);
  json wait_state(const std::string& id, const std::string& state,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Headers sent with every request (e.g. Authorization).
  std::map<std::string, std::string> default_headers;

 private:
  std::filesystem::path data_dir_;
  bool owns_dir_ = true;
  std::string log_path_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::set<pid_t> worker_pids_;
};

}  // namespace comfydist::testing
