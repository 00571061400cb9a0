// Errors a node raises while it runs, with the Python-style exception type ComfyUI clients see
// in execution_error (e.g. "ValueError", "FileNotFoundError").
#pragma once

#include <stdexcept>
#include <string>

namespace comfydist::engine {

class node_error : public std::runtime_error {
 public:
  node_error(std::string exception_type, const std::string& message)
      : std::runtime_error(message), exception_type_(std::move(exception_type)) {}
  const std::string& exception_type() const { return exception_type_; }

 private:
  std::string exception_type_;
};

// Raised from progress checks when the prompt was interrupted; ComfyUI's
// InterruptProcessingException.
class interrupted_error : public std::runtime_error {
 public:
  interrupted_error() : std::runtime_error("Processing interrupted") {}
};

}  // namespace comfydist::engine
