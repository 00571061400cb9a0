// Where local workers' output goes (logs/workers/<name>_<YYYYMMDD>.log) and reading its tail.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace comfydist::master {

// The worker name reduced to [A-Za-z0-9._-] (others become '_'), never empty.
std::string file_safe_name(const std::string& name);

std::filesystem::path worker_log_path(const std::filesystem::path& logs_dir,
                                      const std::string& worker_name);

// The last `lines` lines (at most 10000) of a file, reading at most 4 MiB from its end.
std::vector<std::string> tail_lines(const std::filesystem::path& file, std::size_t lines);

}  // namespace comfydist::master
