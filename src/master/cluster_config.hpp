// The master's configuration (comfydist.json): the master itself, the workers it may use and the
// settings, as typed structs. Keys we do not know are kept and written back unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace comfydist::master {

enum class worker_type { local, remote, cloud };
enum class worker_engine { native, comfyui };

std::string to_string(worker_type type);
std::string to_string(worker_engine engine);
std::optional<worker_type> parse_worker_type(const std::string& text);
std::optional<worker_engine> parse_worker_engine(const std::string& text);

struct worker_config {
  std::string id;  // uuid
  std::string name;
  worker_type type = worker_type::local;
  std::string host;  // empty for local workers (loopback)
  int port = 8189;
  std::optional<std::string> cuda_device;  // local only, e.g. "0" or "0,1"
  std::string extra_args;                  // local only
  bool enabled = true;
  worker_engine engine = worker_engine::native;
  json unknown = json::object();  // keys we do not interpret
};

struct master_config {
  std::string name = "Master";
  std::string host;
  int port = 8188;
  json unknown = json::object();
};

struct comfyui_settings {
  std::string root;    // a ComfyUI checkout, for engine "comfyui"
  std::string python;  // its interpreter; empty → "python3"
};

struct cluster_settings {
  bool auto_launch_workers = true;
  bool stop_workers_on_master_exit = true;
  int worker_timeout_seconds = 60;
  double probe_interval_seconds = 2.0;
  int max_inflight_per_worker = 2;
  int max_attempts_per_unit = 3;  // a unit that failed this often fails for good
  comfyui_settings comfyui;
  std::string extra_ca_file;  // PEM bundle trusted for cloud workers besides the system CAs
  bool has_auto_populated_workers = false;
  json unknown = json::object();
};

struct cluster_config {
  master_config master;
  std::vector<worker_config> workers;
  cluster_settings settings;
  json unknown = json::object();  // top-level keys we do not interpret
};

// Reading fills defaults for missing keys and throws config_error for values of the wrong kind.
cluster_config cluster_config_from_json(const json& document);
json to_json(const cluster_config& config);
worker_config worker_config_from_json(const json& document);
json to_json(const worker_config& worker);
master_config master_config_from_json(const json& document, const master_config& base);
json to_json(const master_config& master);
cluster_settings cluster_settings_from_json(const json& document, const cluster_settings& base);
json to_json(const cluster_settings& settings);

}  // namespace comfydist::master
