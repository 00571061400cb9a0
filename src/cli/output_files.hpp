// Saving the images a job produced into the user's folder: the master's file names are trusted
// only as plain base names, and an existing file is never overwritten.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace comfydist::cli {

// A name the master may give a file: one path component, no "..", no control characters.
bool is_safe_output_name(std::string_view name);

// "image.png" with n = 0, 1, 2 -> "image.png", "image-1.png", "image-2.png"; a name without an
// extension (or with only a leading dot) gets the number at its end.
std::string numbered_name(const std::string& name, int n);

// Writes `bytes` to a new file named `name` in `dir` (or its first free numbered form) and
// returns its path. Throws std::runtime_error when it cannot.
std::filesystem::path save_new_file(const std::filesystem::path& dir, const std::string& name,
                                    std::string_view bytes);

}  // namespace comfydist::cli
