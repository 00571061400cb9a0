// Path confinement for every file name that comes from a client.
#include "common/safe_path.hpp"

#include <system_error>

namespace comfydist {
namespace fs = std::filesystem;

bool is_plain_file_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") {
    return false;
  }
  for (const char c : name) {
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
  }
  return true;
}

std::optional<fs::path> confine_path(const fs::path& base, std::string_view relative) {
  if (relative.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const fs::path rel(relative);
  if (rel.is_absolute() || (!relative.empty() && relative.front() == '/')) {
    return std::nullopt;
  }
  fs::path joined = base;
  for (const auto& part : rel) {
    const auto s = part.string();
    if (s.empty() || s == ".") {
      continue;
    }
    if (s == "..") {
      return std::nullopt;
    }
    joined /= part;
  }
  // Resolve what exists of the path; a symlink anywhere along it must stay inside the base.
  std::error_code ec;
  const fs::path real_base = fs::weakly_canonical(base, ec);
  if (ec) {
    return std::nullopt;
  }
  const fs::path real_joined = fs::weakly_canonical(joined, ec);
  if (ec) {
    return std::nullopt;
  }
  auto b = real_base.begin();
  auto j = real_joined.begin();
  for (; b != real_base.end(); ++b, ++j) {
    if (b->empty()) {
      continue;
    }
    if (j == real_joined.end() || *b != *j) {
      return std::nullopt;
    }
  }
  return joined;
}

}  // namespace comfydist
