// Reading the workflow file `comfydist run` is given: ComfyUI's API format, bare or wrapped as
// {"prompt": {...}}; the editor's UI format is refused with how to export the right one.
#pragma once

#include <stdexcept>
#include <string>

#include "common/json.hpp"

namespace comfydist::cli {

// An unreadable or unusable workflow file; the message is ready to print.
class workflow_file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The API-format prompt in the file: an object of nodes, each with a class_type. The master
// validates the rest, with ComfyUI's messages.
json load_workflow(const std::string& path);

}  // namespace comfydist::cli
