// ComfyUI's model folder keys (GET /models), their default directories under the data dir, and
// the file listing and lookup that loader nodes use (folder_paths.get_filename_list /
// get_full_path).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace comfydist::engine {

using model_folder_map = std::map<std::string, std::vector<std::filesystem::path>>;

// The keys in ComfyUI v0.26's order.
const std::vector<std::string>& model_folder_keys();

// Directories searched for each key, under <models_dir> as in ComfyUI's defaults.
model_folder_map default_model_folders(const std::filesystem::path& models_dir);

// Sorted, de-duplicated relative paths ('/'-separated) of the files under the key's directories
// whose extension is allowed for the key; nothing when the key is unknown.
std::optional<std::vector<std::string>> list_model_files(const model_folder_map& folders,
                                                         const std::string& key);

// The first existing file named `name` (a relative path) under the key's directories, confined to
// them; nothing when absent or when the name tries to leave its folder.
std::optional<std::filesystem::path> find_model_file(const model_folder_map& folders,
                                                     const std::string& key,
                                                     const std::string& name);

}  // namespace comfydist::engine
