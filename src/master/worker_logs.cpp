// Log file naming and tails.
#include "master/worker_logs.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>

namespace comfydist::master {

std::string file_safe_name(const std::string& name) {
  std::string out;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty() || out.find_first_not_of('.') == std::string::npos) {
    out = "worker" + out;
  }
  return out.substr(0, 96);
}

std::filesystem::path worker_log_path(const std::filesystem::path& logs_dir,
                                      const std::string& worker_name) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char day[16];
  std::strftime(day, sizeof day, "%Y%m%d", &tm);
  return logs_dir / (file_safe_name(worker_name) + "_" + day + ".log");
}

std::vector<std::string> tail_lines(const std::filesystem::path& file, std::size_t lines) {
  lines = std::min<std::size_t>(lines, 10000);
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) {
    return {};
  }
  constexpr std::streamoff kMaxRead = 4 << 20;
  const std::streamoff size = in.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - kMaxRead);
  in.seekg(start);
  std::string text(static_cast<std::size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  std::vector<std::string> out;
  std::size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') {
    --end;
  }
  while (out.size() < lines && end > 0) {
    const auto newline = text.rfind('\n', end - 1);
    const std::size_t begin = newline == std::string::npos ? 0 : newline + 1;
    out.push_back(text.substr(begin, end - begin));
    if (newline == std::string::npos) {
      break;
    }
    end = newline;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace comfydist::master
