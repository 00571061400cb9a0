// The workflow file of `comfydist run`.
#include "cli/workflow_file.hpp"

#include <filesystem>

#include "common/file_io.hpp"

namespace comfydist::cli {

json load_workflow(const std::string& path) {
  if (std::filesystem::is_directory(path)) {
    throw workflow_file_error("'" + path + "' is a folder, not a workflow file");
  }
  std::string text;
  try {
    text = read_file(path);
  } catch (const std::exception& e) {
    throw workflow_file_error(e.what());
  }
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    throw workflow_file_error("'" + path + "' is not valid JSON: " + e.what());
  }
  if (!document.is_object()) {
    throw workflow_file_error("'" + path + "' holds no workflow (expected a JSON object)");
  }
  if (document.contains("nodes") && document["nodes"].is_array() && document.contains("links") &&
      document["links"].is_array()) {
    throw workflow_file_error("'" + path +
                              "' is a UI-format workflow (the editor's save file); the master "
                              "runs API-format workflows.\n  In ComfyUI, save it with Workflow > "
                              "\"Export (API)\" and run that file.");
  }
  if (document.contains("prompt") && document["prompt"].is_object()) {
    document = json(document["prompt"]);
  }
  if (document.empty()) {
    throw workflow_file_error("'" + path + "' holds no nodes");
  }
  for (const auto& [id, node] : document.items()) {
    if (!node.is_object() || !node.contains("class_type") || !node["class_type"].is_string()) {
      std::string message = "'" + path + "': node ";
      message.append(id).append(
          " has no class_type; is it an API-format workflow (\"Export (API)\")?");
      throw workflow_file_error(message);
    }
  }
  return document;
}

}  // namespace comfydist::cli
