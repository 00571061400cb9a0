// Problems with configuration values, each tied to the field it concerns, reported all at once.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace comfydist::master {

struct field_problem {
  std::string field;  // e.g. "workers[2].port" or "port"
  std::string message;
};

class config_error : public std::runtime_error {
 public:
  explicit config_error(std::vector<field_problem> problems)
      : std::runtime_error(summary(problems)), problems_(std::move(problems)) {}
  config_error(const std::string& field, const std::string& message)
      : config_error(std::vector<field_problem>{field_problem{field, message}}) {}
  const std::vector<field_problem>& problems() const { return problems_; }

  json to_json() const {
    json fields = json::array();
    for (const auto& p : problems_) {
      json entry = json::object();
      entry["field"] = p.field;
      entry["message"] = p.message;
      fields.push_back(entry);
    }
    return fields;
  }

 private:
  static std::string summary(const std::vector<field_problem>& problems) {
    std::string out;
    for (const auto& p : problems) {
      out += (out.empty() ? "" : "; ") + p.field + ": " + p.message;
    }
    return out.empty() ? "invalid configuration" : out;
  }
  std::vector<field_problem> problems_;
};

}  // namespace comfydist::master
