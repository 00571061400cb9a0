// A client-facing error: HTTP status, machine-readable type and a message a user understands.
#pragma once

#include <stdexcept>
#include <string>

namespace comfydist {

// Thrown inside the domain for problems caused by the request; the route boundary turns it into
// {"error": {"type", "message"}} with `status`.
class api_error : public std::runtime_error {
 public:
  api_error(int status, std::string type, const std::string& message)
      : std::runtime_error(message), status_(status), type_(std::move(type)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }

 private:
  int status_;
  std::string type_;
};

}  // namespace comfydist
