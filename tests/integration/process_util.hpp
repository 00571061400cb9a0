// Shared by the integration harnesses: temporary folders, log files, and starting the comfydist
// binary with its output in a log.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace comfydist::testing {

// A new empty folder under the system temp dir, named <prefix>-XXXXXX.
std::filesystem::path make_temp_dir(const std::string& prefix);

// The whole file as text ("" when it cannot be read).
std::string read_all(const std::filesystem::path& path);

// Starts COMFYDIST_BINARY with `arguments`, stdout and stderr into `log_path`.
pid_t spawn_comfydist(const std::vector<std::string>& arguments, const std::string& log_path);

// Waits for the child to end and returns its exit code (128 + signal when killed); nullopt after
// `timeout`.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout);

}  // namespace comfydist::testing
