// Whole-file reads and atomic writes (temp file, fsync, rename).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace comfydist {

std::string read_file(const std::filesystem::path& path);

// Writes `bytes` to a temporary file beside `path`, fsyncs it and renames it over `path`, so a
// reader sees the old content or the new, never a torn file.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace comfydist
