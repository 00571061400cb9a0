// Whole-file reads and atomic writes (temp file, fsync, rename).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace comfydist {

std::string read_file(const std::filesystem::path& path);

enum class file_durability {
  synced,  // fsync before the rename: the content survives a power loss once this returns
  cached,  // no fsync (about 4 ms less per file here): for files that may be lost, e.g. previews
};

// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so a reader sees
// the old content or the new, never a torn file.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes,
                       file_durability durability = file_durability::synced);

}  // namespace comfydist
