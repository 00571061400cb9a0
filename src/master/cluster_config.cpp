// JSON ↔ typed configuration, keeping unknown keys.
#include "master/cluster_config.hpp"

#include <cmath>
#include <set>

#include "master/config_error.hpp"

namespace comfydist::master {
namespace {

// Reads typed values out of one JSON object, collecting problems instead of stopping at the first.
class reader {
 public:
  reader(const json& object, std::string prefix, std::vector<field_problem>& problems)
      : object_(object), prefix_(std::move(prefix)), problems_(problems) {}

  template <typename T>
  void read(const char* key, T& target) {
    seen_.insert(key);
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
      return;
    }
    if constexpr (std::is_same_v<T, bool>) {
      if (it->is_boolean()) {
        target = it->get<bool>();
        return;
      }
      problem(key, "must be true or false");
    } else if constexpr (std::is_same_v<T, int>) {
      if (it->is_number_integer() ||
          (it->is_number_float() && std::floor(it->get<double>()) == it->get<double>())) {
        const double v = it->get<double>();
        if (v >= -2147483648.0 && v <= 2147483647.0) {
          target = static_cast<int>(v);
          return;
        }
      }
      // ComfyUI-Distributed's UI sometimes stores numbers as strings.
      if (it->is_string()) {
        try {
          std::size_t used = 0;
          const int v = std::stoi(it->get<std::string>(), &used);
          if (used == it->get_ref<const std::string&>().size()) {
            target = v;
            return;
          }
        } catch (const std::exception&) {
          // reported below
        }
      }
      problem(key, "must be a whole number");
    } else if constexpr (std::is_same_v<T, double>) {
      if (it->is_number()) {
        target = it->get<double>();
        return;
      }
      problem(key, "must be a number");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (it->is_string()) {
        target = it->get<std::string>();
        return;
      }
      problem(key, "must be a string");
    }
  }

  // Marks a key handled by the caller itself.
  void known(const char* key) { seen_.insert(key); }

  void problem(const std::string& key, const std::string& message) {
    problems_.push_back({prefix_.empty() ? key : prefix_ + "." + key, message});
  }

  // The keys of the object that were never read.
  json unknown() const {
    json out = json::object();
    for (const auto& [key, value] : object_.items()) {
      if (seen_.count(key) == 0) {
        out[key] = value;
      }
    }
    return out;
  }

 private:
  const json& object_;
  std::string prefix_;
  std::vector<field_problem>& problems_;
  std::set<std::string> seen_;
};

void merge_unknown(json& out, const json& unknown) {
  for (const auto& [key, value] : unknown.items()) {
    if (!out.contains(key)) {
      out[key] = value;
    }
  }
}

worker_config read_worker(const json& document, const std::string& prefix,
                          std::vector<field_problem>& problems) {
  worker_config worker;
  if (!document.is_object()) {
    problems.push_back({prefix, "must be an object"});
    return worker;
  }
  reader r(document, prefix, problems);
  r.read("id", worker.id);
  r.read("name", worker.name);
  std::string type = "local";
  r.read("type", type);
  if (const auto t = parse_worker_type(type)) {
    worker.type = *t;
  } else {
    r.problem("type", "must be local, remote or cloud");
  }
  r.read("host", worker.host);
  r.read("port", worker.port);
  if (document.contains("cuda_device") && !document["cuda_device"].is_null()) {
    const json& cuda = document["cuda_device"];
    if (cuda.is_number_integer()) {
      worker.cuda_device = std::to_string(cuda.get<std::int64_t>());
    } else if (cuda.is_string()) {
      worker.cuda_device = cuda.get<std::string>();
    } else {
      r.problem("cuda_device", "must be a device index such as 0 or \"0,1\"");
    }
  }
  r.known("cuda_device");
  r.read("extra_args", worker.extra_args);
  r.read("enabled", worker.enabled);
  std::string engine = "native";
  r.read("engine", engine);
  if (const auto e = parse_worker_engine(engine)) {
    worker.engine = *e;
  } else {
    r.problem("engine", "must be native or comfyui");
  }
  worker.unknown = r.unknown();
  return worker;
}

}  // namespace

std::string to_string(worker_type type) {
  switch (type) {
    case worker_type::local:
      return "local";
    case worker_type::remote:
      return "remote";
    case worker_type::cloud:
      return "cloud";
  }
  return "local";
}

std::string to_string(worker_engine engine) {
  return engine == worker_engine::comfyui ? "comfyui" : "native";
}

std::optional<worker_type> parse_worker_type(const std::string& text) {
  if (text == "local") {
    return worker_type::local;
  }
  if (text == "remote") {
    return worker_type::remote;
  }
  if (text == "cloud") {
    return worker_type::cloud;
  }
  return std::nullopt;
}

std::optional<worker_engine> parse_worker_engine(const std::string& text) {
  if (text == "native") {
    return worker_engine::native;
  }
  if (text == "comfyui") {
    return worker_engine::comfyui;
  }
  return std::nullopt;
}

worker_config worker_config_from_json(const json& document) {
  std::vector<field_problem> problems;
  worker_config worker = read_worker(document, "", problems);
  if (!problems.empty()) {
    throw config_error(problems);
  }
  return worker;
}

json to_json(const worker_config& worker) {
  json out = json::object();
  out["id"] = worker.id;
  out["name"] = worker.name;
  out["type"] = to_string(worker.type);
  out["host"] = worker.host;
  out["port"] = worker.port;
  out["cuda_device"] = worker.cuda_device ? json(*worker.cuda_device) : json(nullptr);
  out["extra_args"] = worker.extra_args;
  out["enabled"] = worker.enabled;
  out["engine"] = to_string(worker.engine);
  merge_unknown(out, worker.unknown);
  return out;
}

master_config master_config_from_json(const json& document, const master_config& base) {
  std::vector<field_problem> problems;
  master_config master = base;
  if (!document.is_object()) {
    throw config_error("master", "must be an object");
  }
  reader r(document, "", problems);
  r.read("name", master.name);
  r.read("host", master.host);
  r.read("port", master.port);
  json unknown = r.unknown();
  merge_unknown(unknown, base.unknown);
  master.unknown = unknown;
  if (!problems.empty()) {
    throw config_error(problems);
  }
  return master;
}

json to_json(const master_config& master) {
  json out = json::object();
  out["name"] = master.name;
  out["host"] = master.host;
  out["port"] = master.port;
  merge_unknown(out, master.unknown);
  return out;
}

cluster_settings cluster_settings_from_json(const json& document, const cluster_settings& base) {
  std::vector<field_problem> problems;
  cluster_settings settings = base;
  if (!document.is_object()) {
    throw config_error("settings", "must be an object");
  }
  reader r(document, "", problems);
  r.read("auto_launch_workers", settings.auto_launch_workers);
  r.read("stop_workers_on_master_exit", settings.stop_workers_on_master_exit);
  r.read("worker_timeout_seconds", settings.worker_timeout_seconds);
  r.read("probe_interval_seconds", settings.probe_interval_seconds);
  r.read("max_inflight_per_worker", settings.max_inflight_per_worker);
  r.read("max_attempts_per_unit", settings.max_attempts_per_unit);
  r.read("extra_ca_file", settings.extra_ca_file);
  r.read("has_auto_populated_workers", settings.has_auto_populated_workers);
  r.known("comfyui");
  if (document.contains("comfyui") && !document["comfyui"].is_null()) {
    if (document["comfyui"].is_object()) {
      reader c(document["comfyui"], "comfyui", problems);
      c.read("root", settings.comfyui.root);
      c.read("python", settings.comfyui.python);
    } else {
      problems.push_back({"comfyui", "must be an object with root and python"});
    }
  }
  json unknown = r.unknown();
  merge_unknown(unknown, base.unknown);
  settings.unknown = unknown;
  if (!problems.empty()) {
    throw config_error(problems);
  }
  return settings;
}

json to_json(const cluster_settings& settings) {
  json out = json::object();
  out["auto_launch_workers"] = settings.auto_launch_workers;
  out["stop_workers_on_master_exit"] = settings.stop_workers_on_master_exit;
  out["worker_timeout_seconds"] = settings.worker_timeout_seconds;
  out["probe_interval_seconds"] = settings.probe_interval_seconds;
  out["max_inflight_per_worker"] = settings.max_inflight_per_worker;
  out["max_attempts_per_unit"] = settings.max_attempts_per_unit;
  json comfyui = json::object();
  comfyui["root"] = settings.comfyui.root;
  comfyui["python"] = settings.comfyui.python;
  out["comfyui"] = comfyui;
  out["extra_ca_file"] = settings.extra_ca_file;
  out["has_auto_populated_workers"] = settings.has_auto_populated_workers;
  merge_unknown(out, settings.unknown);
  return out;
}

cluster_config cluster_config_from_json(const json& document) {
  if (!document.is_object()) {
    throw config_error("(file)", "the configuration must be a JSON object");
  }
  cluster_config config;
  std::vector<field_problem> problems;
  for (const auto& [key, value] : document.items()) {
    if (key == "master") {
      try {
        config.master = master_config_from_json(value, config.master);
      } catch (const config_error& e) {
        for (const auto& p : e.problems()) {
          problems.push_back({"master." + p.field, p.message});
        }
      }
    } else if (key == "settings") {
      try {
        config.settings = cluster_settings_from_json(value, config.settings);
      } catch (const config_error& e) {
        for (const auto& p : e.problems()) {
          problems.push_back({"settings." + p.field, p.message});
        }
      }
    } else if (key == "workers") {
      if (!value.is_array()) {
        problems.push_back({"workers", "must be a list"});
        continue;
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        config.workers.push_back(
            read_worker(value[i], "workers[" + std::to_string(i) + "]", problems));
      }
    } else {
      config.unknown[key] = value;
    }
  }
  if (!problems.empty()) {
    throw config_error(problems);
  }
  return config;
}

json to_json(const cluster_config& config) {
  json out = json::object();
  out["master"] = to_json(config.master);
  json workers = json::array();
  for (const auto& w : config.workers) {
    workers.push_back(to_json(w));
  }
  out["workers"] = workers;
  out["settings"] = to_json(config.settings);
  merge_unknown(out, config.unknown);
  return out;
}

}  // namespace comfydist::master
