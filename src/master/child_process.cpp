// fork/exec of worker processes with process groups, log redirection and parent-death signals.
#include "master/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace comfydist::master {

child_process child_process::spawn(const launch_spec& spec) {
  std::filesystem::create_directories(spec.log_file.parent_path());
  const int log_fd = ::open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    throw std::runtime_error("cannot open log '" + spec.log_file.string() +
                             "': " + std::strerror(errno));
  }
  if (!spec.log_header.empty()) {
    const std::string line = spec.log_header + "\n";
    [[maybe_unused]] const auto written = ::write(log_fd, line.data(), line.size());
  }

  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    const std::string key = entry.substr(0, eq);
    bool overridden = false;
    for (const auto& [k, v] : spec.environment) {
      overridden = overridden || k == key;
    }
    if (!overridden) {
      env_strings.push_back(entry);
    }
  }
  for (const auto& [k, v] : spec.environment) {
    std::string entry = k;
    entry.append("=").append(v);
    env_strings.push_back(std::move(entry));
  }
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) {
    envp.push_back(s.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> arg_strings{spec.program};
  arg_strings.insert(arg_strings.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  argv.reserve(arg_strings.size() + 1);
  for (auto& s : arg_strings) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);

  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    ::close(log_fd);
    throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    ::close(error_pipe[0]);
    ::close(error_pipe[1]);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    if (spec.die_with_master) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) {
        ::_exit(127);  // the master died between fork and prctl
      }
    }
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvpe(argv[0], argv.data(), envp.data());
    const int err = errno;
    [[maybe_unused]] const auto w = ::write(error_pipe[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(error_pipe[1]);
  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(error_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  child_process child;
  child.pid_ = pid;
  if (n == sizeof child_errno) {
    ::waitpid(pid, nullptr, 0);
    child.pid_ = -1;
    throw std::runtime_error("cannot run '" + spec.program + "': " + std::strerror(child_errno));
  }
  return child;
}

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), exit_status_(std::exchange(other.exit_status_, {})) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    pid_ = std::exchange(other.pid_, -1);
    exit_status_ = std::exchange(other.exit_status_, {});
  }
  return *this;
}

std::optional<int> child_process::poll() {
  if (exit_status_ || pid_ <= 0) {
    return exit_status_;
  }
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = status;
  }
  return exit_status_;
}

void child_process::signal_group(int signal) const {
  if (pid_ > 0 && !exit_status_) {
    ::kill(-pid_, signal);
  }
}

std::string child_process::describe_exit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return "exited with code " + std::to_string(WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return "killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "ended (status " + std::to_string(wait_status) + ")";
}

bool process_alive(pid_t pid) {
  if (pid <= 0) {
    return false;
  }
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace comfydist::master
