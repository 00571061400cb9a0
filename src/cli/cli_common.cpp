// Default paths and option parsing shared by the subcommands.
#include "cli/cli_common.hpp"

#include <cstdlib>

namespace comfydist::cli {

std::filesystem::path default_data_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "comfydist";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".local" / "share" / "comfydist";
  }
  return std::filesystem::current_path() / "comfydist-data";
}

std::vector<std::string> split_listen(const std::string& value) {
  std::vector<std::string> out;
  std::string current;
  for (const char c : value) {
    if (c == ',') {
      if (!current.empty()) {
        out.push_back(current);
      }
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) {
    out.push_back(current);
  }
  return out;
}

}  // namespace comfydist::cli
