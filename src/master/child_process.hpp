// A child process started without a shell in its own process group, with its output appended to
// a log file, optionally bound to the master's life (it gets SIGTERM when the master dies, even by
// SIGKILL). Start children from one long-lived thread: the kernel's parent-death signal follows
// the thread that forked.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace comfydist::master {

struct launch_spec {
  std::string program;  // looked up in PATH when it has no '/'
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> environment;  // added to the master's
  std::filesystem::path log_file;
  std::string log_header;  // written as one line before the child's output
  bool die_with_master = true;
};

class child_process {
 public:
  // Throws std::runtime_error with the reason when the program cannot be started (not found, not
  // executable, the log cannot be opened).
  static child_process spawn(const launch_spec& spec);

  child_process() = default;
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  // A running child left behind is its supervisor's decision (stop_workers_on_master_exit); the
  // handle going away does not kill it.
  ~child_process() = default;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_status_; }
  // Reaps the child if it ended; returns its wait status (see describe_exit).
  std::optional<int> poll();
  void signal_group(int signal) const;

  // "exited with code 3", "killed by signal 9 (Killed)".
  static std::string describe_exit(int wait_status);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// True when a process with this pid exists (not a zombie of ours).
bool process_alive(pid_t pid);

}  // namespace comfydist::master
