// folder_paths.get_save_image_path: where SaveImage and PreviewImage write, and the counter that
// continues from the files already there.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <string>

namespace comfydist::nodes {

struct save_path {
  std::filesystem::path folder;  // output_dir joined with subfolder (created if missing)
  std::string filename;          // basename of the normalised prefix
  std::int64_t counter = 1;      // 1 + the highest existing `<filename>_<digits>` number
  std::string subfolder;         // as reported in the ui ("" or e.g. "sub/dir")
};

// %width%, %height%, %year%, %month%, %day%, %hour%, %minute%, %second% substitution (the
// frontend substitutes %date:…% and %Node.widget% before the prompt arrives).
std::string substitute_save_variables(std::string prefix, int width, int height,
                                      const std::tm& now);

// Throws engine::node_error("Exception", "Saving image outside the output folder is not
// allowed.") when the prefix's folder leaves `output_dir` (lexically or through a symlink).
save_path get_save_image_path(const std::string& prefix, const std::filesystem::path& output_dir,
                              int width, int height);

// Python's os.path.normpath for POSIX paths.
std::string python_normpath(const std::string& path);

}  // namespace comfydist::nodes
