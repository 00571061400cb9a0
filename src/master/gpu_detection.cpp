// nvidia-smi invocation without a shell, with a deadline.
#include "master/gpu_detection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

extern char** environ;

namespace comfydist::master {

std::vector<gpu_info> parse_nvidia_smi_csv(const std::string& text) {
  std::vector<gpu_info> gpus;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto first = line.find(',');
    const auto last = line.rfind(',');
    if (first == std::string::npos || last == first) {
      continue;
    }
    auto trim = [](const std::string& s) {
      const auto a = s.find_first_not_of(" \t\r");
      const auto b = s.find_last_not_of(" \t\r");
      return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
    };
    try {
      gpu_info gpu;
      gpu.index = std::stoi(trim(line.substr(0, first)));
      gpu.name = trim(line.substr(first + 1, last - first - 1));
      gpu.memory_total_bytes = std::stoull(trim(line.substr(last + 1))) * 1024 * 1024;
      gpus.push_back(gpu);
    } catch (const std::exception&) {
      continue;  // a line we do not understand (e.g. "[N/A]")
    }
  }
  return gpus;
}

std::vector<gpu_info> detect_gpus() {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return {};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  char program[] = "nvidia-smi";
  char query[] = "--query-gpu=index,name,memory.total";
  char format[] = "--format=csv,noheader,nounits";
  char* argv[] = {program, query, format, nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, program, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return {};
  }
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) {
      continue;
    }
    char buffer[4096];
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0 || text.size() > (1 << 20)) {
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return {};
  }
  return parse_nvidia_smi_csv(text);
}

}  // namespace comfydist::master
