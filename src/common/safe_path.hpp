// Confines client-supplied relative paths to a base folder: no "..", no absolute paths, no NUL
// bytes, and no symlinks that lead outside.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace comfydist {

// Joins `relative` (which may contain '/' separators) under `base`. Returns nothing when the
// result would leave `base`: an absolute path, a ".." component, a NUL byte, or an existing
// prefix that resolves (through symlinks) outside `base`.
std::optional<std::filesystem::path> confine_path(const std::filesystem::path& base,
                                                  std::string_view relative);

// True when `name` is a single plain file name: not empty, no separators, not "." or "..",
// no NUL or control characters.
bool is_plain_file_name(std::string_view name);

}  // namespace comfydist
