// Process control and HTTP helpers for the master integration tests.
#include "master_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/uuid.hpp"
#include "process_util.hpp"

namespace comfydist::testing {
namespace fs = std::filesystem;

json test_config() {
  json config = json::object();
  config["master"] = json::object();
  config["workers"] = json::array();
  json settings = json::object();
  settings["probe_interval_seconds"] = 0.5;
  settings["has_auto_populated_workers"] = true;
  config["settings"] = settings;
  return config;
}

json local_worker(const std::string& name, int port) {
  json w = json::object();
  w["id"] = make_uuid4();
  w["name"] = name;
  w["type"] = "local";
  w["port"] = port;
  w["enabled"] = true;
  w["engine"] = "native";
  return w;
}

json remote_worker(const std::string& name, const std::string& host, int port,
                   const std::string& type) {
  json w = json::object();
  w["id"] = make_uuid4();
  w["name"] = name;
  w["type"] = type;
  w["host"] = host;
  w["port"] = port;
  w["enabled"] = true;
  return w;
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

bool process_gone(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) {
    return true;
  }
  // A child of a killed master may linger as a zombie until init reaps it.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() &&
         (text[close + 2] == 'Z' || text[close + 2] == 'X');
}

command_result run_comfydist(const std::vector<std::string>& args,
                             std::chrono::milliseconds timeout) {
  const fs::path dir = make_temp_dir("comfydist-master");
  const std::string log = (dir / "out.log").string();
  command_result result;
  const pid_t pid = spawn_comfydist(args, log);
  if (const auto code = wait_exit(pid, timeout)) {
    result.exit_code = *code;
  } else {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  result.output = read_all(log);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return result;
}

master_process::master_process(master_setup setup, std::optional<fs::path> reuse_dir) {
  if (reuse_dir) {
    data_dir_ = *reuse_dir;
    owns_dir_ = false;
  } else {
    data_dir_ = make_temp_dir("comfydist-master");
  }
  log_path_ =
      (data_dir_ /
       ("master-" + std::to_string(::getpid()) + "-" +
        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".log"))
          .string();
  const fs::path data = data_dir_ / "data";
  fs::create_directories(data);
  if (setup.raw_config) {
    std::ofstream(data / "comfydist.json") << *setup.raw_config;
  } else if (!setup.config.is_null()) {
    std::ofstream(data / "comfydist.json") << setup.config.dump(2);
  }
  std::vector<std::string> args{"serve", "--port", "0", "--data-dir", data.string()};
  args.insert(args.end(), setup.args.begin(), setup.args.end());
  pid_ = spawn_comfydist(args, log_path_);
  const std::regex ready("master ready on port ([0-9]+)");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    const std::string text = read_all(log_path_);
    if (std::regex_search(text, match, ready)) {
      port_ = static_cast<std::uint16_t>(std::stoi(match[1]));
      return;
    }
    if (!alive()) {
      throw std::runtime_error("master exited during start-up:\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("master not ready after 30 s:\n" + read_all(log_path_));
}

master_process::~master_process() {
  if (alive()) {
    ::kill(pid_, SIGTERM);
    // The master stops its workers first (SIGTERM, up to 10 s grace).
    if (!wait_exit(pid_, std::chrono::seconds(20))) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  for (const pid_t pid : worker_pids_) {
    if (!process_gone(pid)) {
      ::kill(pid, SIGKILL);
    }
  }
  if (owns_dir_) {
    std::error_code ec;
    fs::remove_all(data_dir_, ec);
  }
}

std::string master_process::log() const {
  return read_all(log_path_);
}

bool master_process::alive() {
  if (pid_ <= 0) {
    return false;
  }
  if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void master_process::kill9() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

net::client_response master_process::request(const std::string& method, const std::string& target,
                                             const std::string& body,
                                             std::map<std::string, std::string> headers) const {
  for (const auto& [k, v] : default_headers) {
    headers.emplace(k, v);
  }
  return net::http_fetch("127.0.0.1", port_, method, target, body, headers,
                         std::chrono::seconds(10));
}

net::client_response master_process::request_json(const std::string& method,
                                                  const std::string& target,
                                                  const json& body) const {
  return request(method, target, body.dump(), {{"Content-Type", "application/json"}});
}

json master_process::workers() {
  const auto response = request("GET", "/distributed/workers");
  if (response.status != 200) {
    throw std::runtime_error("GET /distributed/workers: HTTP " + std::to_string(response.status) +
                             " " + response.body);
  }
  json list = json::parse(response.body).at("workers");
  for (const auto& w : list) {
    if (w.contains("pid") && w["pid"].is_number_integer()) {
      worker_pids_.insert(w["pid"].get<pid_t>());
    }
  }
  return list;
}

json master_process::worker(const std::string& id) {
  for (const auto& w : workers()) {
    if (w.value("id", "") == id) {
      return w;
    }
  }
  return nullptr;
}

json master_process::wait_worker(const std::string& id, const std::function<bool(const json&)>& ok,
                                 std::chrono::milliseconds timeout, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  json last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = worker(id);
    if (!last.is_null() && ok(last)) {
      return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "worker " << id << " never became " << what << "; last: " << last.dump()
                << "\nmaster log (end):\n"
                << log().substr(log().size() > 4000 ? log().size() - 4000 : 0);
  return last;
}

json master_process::wait_state(const std::string& id, const std::string& state,
                                std::chrono::milliseconds timeout) {
  return wait_worker(
      id, [&](const json& w) { return w.value("state", "") == state; }, timeout, state);
}

}  // namespace comfydist::testing
