// The rules a configuration must satisfy before it is stored or used; every broken rule is
// reported with its field.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "master/cluster_config.hpp"
#include "master/config_error.hpp"

namespace comfydist::master {

std::vector<field_problem> check_config(const cluster_config& config);

// Throws config_error when check_config finds problems.
void validate_config(const cluster_config& config);

// Strips a scheme, path and trailing slash from a host a user typed ("https://pod.example/x" →
// "pod.example"); a ":port" suffix is returned separately when present.
struct normalized_host {
  std::string host;
  std::optional<int> port;
  bool https = false;
};
normalized_host normalize_host(const std::string& text);

}  // namespace comfydist::master
