// Configuration rules: names, hosts, ports, clashes, extra_args.
#include "master/config_validation.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "common/uuid.hpp"
#include "master/shell_args.hpp"

namespace comfydist::master {

normalized_host normalize_host(const std::string& text) {
  normalized_host out;
  std::string rest = text;
  const auto trim = [](const std::string& s) {
    const auto first = s.find_first_not_of(" \t");
    const auto last = s.find_last_not_of(" \t");
    return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
  };
  rest = trim(rest);
  if (const auto scheme = rest.find("://"); scheme != std::string::npos) {
    out.https = rest.compare(0, scheme, "https") == 0;
    rest = rest.substr(scheme + 3);
  }
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    rest = rest.substr(0, slash);
  }
  // [v6]:port, host:port; a bare IPv6 address has more than one colon and no port.
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close != std::string::npos) {
      const std::string after = rest.substr(close + 1);
      if (after.size() > 1 && after.front() == ':') {
        try {
          out.port = std::stoi(after.substr(1));
        } catch (const std::exception&) {
          out.port = -1;
        }
      }
      rest = rest.substr(1, close - 1);
    }
  } else if (std::count(rest.begin(), rest.end(), ':') == 1) {
    const auto colon = rest.find(':');
    try {
      out.port = std::stoi(rest.substr(colon + 1));
    } catch (const std::exception&) {
      out.port = -1;
    }
    rest = rest.substr(0, colon);
  }
  out.host = rest;
  return out;
}

std::vector<field_problem> check_config(const cluster_config& config) {
  std::vector<field_problem> problems;
  if (config.master.port < 1 || config.master.port > 65535) {
    problems.push_back({"master.port", "must be between 1 and 65535"});
  }
  if (config.settings.worker_timeout_seconds < 5 ||
      config.settings.worker_timeout_seconds > 86400) {
    problems.push_back({"settings.worker_timeout_seconds", "must be between 5 and 86400"});
  }
  if (config.settings.probe_interval_seconds < 0.2 ||
      config.settings.probe_interval_seconds > 3600) {
    problems.push_back({"settings.probe_interval_seconds", "must be between 0.2 and 3600"});
  }
  if (config.settings.max_inflight_per_worker < 1 || config.settings.max_inflight_per_worker > 64) {
    problems.push_back({"settings.max_inflight_per_worker", "must be between 1 and 64"});
  }
  if (config.settings.max_attempts_per_unit < 1 || config.settings.max_attempts_per_unit > 20) {
    problems.push_back({"settings.max_attempts_per_unit", "must be between 1 and 20"});
  }
  constexpr std::size_t kMaxWorkers = 1024;
  if (config.workers.size() > kMaxWorkers) {
    problems.push_back({"workers", "at most " + std::to_string(kMaxWorkers) + " workers"});
  }
  std::map<int, std::string> local_ports;
  std::map<std::string, std::string> endpoints;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < config.workers.size(); ++i) {
    const worker_config& w = config.workers[i];
    const std::string field = "workers[" + std::to_string(i) + "]";
    if (!is_canonical_uuid(w.id)) {
      problems.push_back({field + ".id", "must be a lowercase UUID"});
    } else if (!ids.insert(w.id).second) {
      problems.push_back({field + ".id", "is used by another worker"});
    }
    if (w.name.empty()) {
      problems.push_back({field + ".name", "is required"});
    } else if (w.name.size() > 128) {
      problems.push_back({field + ".name", "must be at most 128 characters"});
    }
    if (w.port < 1 || w.port > 65535) {
      problems.push_back({field + ".port", "must be between 1 and 65535"});
    }
    if (w.type != worker_type::local && w.host.empty()) {
      problems.push_back({field + ".host", "is required for " + to_string(w.type) + " workers"});
    }
    if (w.host.size() > 253) {
      problems.push_back({field + ".host", "is too long"});
    }
    if (w.type == worker_type::local) {
      if (w.port == config.master.port) {
        problems.push_back(
            {field + ".port", "port " + std::to_string(w.port) + " is the master's port"});
      } else if (const auto clash = local_ports.find(w.port); clash != local_ports.end()) {
        problems.push_back({field + ".port", "port " + std::to_string(w.port) +
                                                 " is already used by local worker '" +
                                                 clash->second + "'"});
      } else {
        local_ports[w.port] = w.name;
      }
      if (w.cuda_device) {
        const std::string& d = *w.cuda_device;
        const bool ok =
            !d.empty() && d.size() <= 64 && d.find_first_not_of("0123456789,") == std::string::npos;
        if (!ok) {
          problems.push_back({field + ".cuda_device", "must be a device index such as 0 or 0,1"});
        }
      }
      try {
        (void)split_shell_args(w.extra_args);
      } catch (const std::invalid_argument& e) {
        problems.push_back({field + ".extra_args", e.what()});
      }
      if (w.extra_args.size() > 4096) {
        problems.push_back({field + ".extra_args", "must be at most 4096 characters"});
      }
    }
    const std::string host = w.type == worker_type::local ? "127.0.0.1" : w.host;
    const std::string endpoint = host + ":" + std::to_string(w.port);
    if (const auto clash = endpoints.find(endpoint); clash != endpoints.end()) {
      problems.push_back(
          {field + ".port", endpoint + " is already used by worker '" + clash->second + "'"});
    } else {
      endpoints[endpoint] = w.name;
    }
  }
  return problems;
}

void validate_config(const cluster_config& config) {
  auto problems = check_config(config);
  if (!problems.empty()) {
    throw config_error(std::move(problems));
  }
}

}  // namespace comfydist::master
