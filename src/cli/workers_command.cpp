// `comfydist workers list|add|remove|enable|disable|launch|stop|log`: the workers of a running
// master, over its /distributed/* API.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli/cli_common.hpp"
#include "cli/master_client.hpp"
#include "net/auth_token.hpp"

namespace comfydist::cli {
namespace {

struct workers_args {
  std::string master = "http://127.0.0.1:8188";
  std::string token_file;
  std::string worker;  // id, name or id prefix
  std::size_t lines = 50;
  bool as_json = false;
  // add
  std::string name;
  std::string type;
  std::string host;
  int port = 0;
  std::string cuda_device;
  std::string extra_args;
  std::string engine;
  bool disabled = false;
};

std::string text_of(const json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  return value.is_null() ? "" : value.dump();
}

// The first line of a reason, cut to fit a table cell.
std::string short_text(const std::string& text, std::size_t width) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() > width) {
    line = line.substr(0, width - 3) + "...";
  }
  return line;
}

void print_table(const json& workers) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "NAME", "TYPE", "ADDRESS", "STATE", "QUEUE", "LAST ERROR"});
  for (const auto& w : workers) {
    rows.push_back({text_of(w.value("id", json(""))).substr(0, 8),
                    text_of(w.value("name", json(""))), text_of(w.value("type", json(""))),
                    text_of(w.value("url", json(""))), text_of(w.value("state", json(""))),
                    std::to_string(w.value("queue_remaining", std::int64_t{0})),
                    short_text(text_of(w.value("last_error", json(nullptr))), 60)});
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string cell = row[i];
      if (i + 1 < row.size()) {
        cell.resize(widths[i] + 2, ' ');
      }
      line += cell;
    }
    std::printf("%s\n", line.c_str());
  }
}

// The worker named by `key`: its id, its name, or a unique prefix of its id.
json find_worker(master_client& client, const std::string& key) {
  const json workers = client.call("GET", "/distributed/workers").value("workers", json::array());
  std::vector<json> by_name;
  std::vector<json> by_prefix;
  for (const auto& w : workers) {
    const std::string id = w.value("id", "");
    if (id == key) {
      return w;
    }
    if (w.value("name", "") == key) {
      by_name.push_back(w);
    }
    if (key.size() >= 4 && id.rfind(key, 0) == 0) {
      by_prefix.push_back(w);
    }
  }
  if (by_name.size() == 1) {
    return by_name.front();
  }
  if (by_name.size() > 1) {
    throw master_call_error("several workers are named '" + key + "'; give the id instead");
  }
  if (by_prefix.size() == 1) {
    return by_prefix.front();
  }
  throw master_call_error("no worker with the id or name '" + key +
                          "' (see `comfydist workers list`)");
}

std::string describe(const json& worker) {
  return "'" + worker.value("name", std::string()) + "' (" +
         worker.value("id", std::string()).substr(0, 8) + ")";
}

json add_body(const CLI::App& cmd, const workers_args& args) {
  json body = json::object();
  body["name"] = args.name;
  if (cmd.count("--type") > 0) {
    body["type"] = args.type;
  }
  if (cmd.count("--host") > 0) {
    body["host"] = args.host;
  }
  if (cmd.count("--port") > 0) {
    body["port"] = args.port;
  }
  if (cmd.count("--cuda-device") > 0) {
    body["cuda_device"] = args.cuda_device;
  }
  if (cmd.count("--extra-args") > 0) {
    body["extra_args"] = args.extra_args;
  }
  if (cmd.count("--engine") > 0) {
    body["engine"] = args.engine;
  }
  if (args.disabled) {
    body["enabled"] = false;
  }
  return body;
}

int run_action(const std::string& action, const CLI::App& add_cmd, master_client& client,
               const workers_args& args) {
  if (action == "list") {
    const json answer = client.call("GET", "/distributed/workers");
    if (args.as_json) {
      std::printf("%s\n", answer.dump(2).c_str());
    } else {
      print_table(answer.value("workers", json::array()));
    }
    return 0;
  }
  if (action == "add") {
    const json worker = client.call("POST", "/distributed/workers", add_body(add_cmd, args));
    std::printf("added worker %s: %s %s, state %s\n", describe(worker).c_str(),
                worker.value("type", "").c_str(), worker.value("url", "").c_str(),
                worker.value("state", "").c_str());
    std::printf("id %s\n", worker.value("id", "").c_str());
    return 0;
  }
  const json worker = find_worker(client, args.worker);
  const std::string base = "/distributed/workers/" + worker.value("id", std::string());
  if (action == "remove") {
    client.call("DELETE", base);
    std::printf("removed worker %s\n", describe(worker).c_str());
  } else if (action == "enable" || action == "disable") {
    json body = json::object();
    body["enabled"] = action == "enable";
    const json answer = client.call("PATCH", base, body);
    std::printf("%sd worker %s; state %s\n", action.c_str(), describe(worker).c_str(),
                answer.value("state", "").c_str());
  } else if (action == "launch" || action == "stop") {
    const json answer = client.call("POST", base + "/" + action);
    std::printf("%s worker %s: state %s\n", action == "launch" ? "launched" : "stopping",
                describe(worker).c_str(), answer.value("state", "").c_str());
  } else if (action == "log") {
    const json answer = client.call("GET", base + "/log?lines=" + std::to_string(args.lines));
    for (const auto& line : answer.value("lines", json::array())) {
      std::printf("%s\n", text_of(line).c_str());
    }
  }
  return 0;
}

}  // namespace

subcommand add_workers_command(CLI::App& app) {
  auto args = std::make_shared<workers_args>();
  auto* cmd = app.add_subcommand("workers", "List and manage the workers of a running master");
  cmd->require_subcommand(1);
  // Lets --master and --token-file follow the action (`workers list --master URL`).
  cmd->fallthrough();
  cmd->add_option("--master", args->master, "The master's URL")->capture_default_str();
  cmd->add_option("--token-file", args->token_file,
                  "File with the master's auth token (its --auth-token-file)");

  auto* list = cmd->add_subcommand("list", "Show every worker with its state");
  list->add_flag("--json", args->as_json, "Print the master's JSON instead of a table");
  auto* add = cmd->add_subcommand("add", "Add a worker");
  add->add_option("--name", args->name, "Name shown in lists and logs")->required();
  add->add_option("--type", args->type, "local (default), remote or cloud")
      ->check(CLI::IsMember({"local", "remote", "cloud"}));
  add->add_option("--host", args->host, "Address of a remote or cloud worker");
  add->add_option("--port", args->port,
                  "Port (local: the next free one from 8189; cloud: 443 unless given)");
  add->add_option("--cuda-device", args->cuda_device, "CUDA device(s) of a local worker: 0 or 0,1");
  add->add_option("--extra-args", args->extra_args,
                  "More arguments for a local worker's command line (no shell)");
  add->add_option("--engine", args->engine, "native (default) or comfyui")
      ->check(CLI::IsMember({"native", "comfyui"}));
  add->add_flag("--disabled", args->disabled, "Add it disabled");
  std::vector<std::pair<std::string, CLI::App*>> actions{{"list", list}, {"add", add}};
  const std::vector<std::pair<std::string, std::string>> by_worker{
      {"remove", "Delete a worker (a local one is stopped)"},
      {"enable", "Enable a worker"},
      {"disable", "Disable a worker (a local one is stopped)"},
      {"launch", "Start a local worker"},
      {"stop", "Stop a local worker"},
      {"log", "Print the end of a local worker's log"}};
  for (const auto& [name, help] : by_worker) {
    auto* sub = cmd->add_subcommand(name, help);
    sub->add_option("worker", args->worker, "The worker's id, name, or a prefix of its id")
        ->required();
    if (name == "log") {
      sub->add_option("--lines,-n", args->lines, "How many lines")->capture_default_str();
    }
    actions.emplace_back(name, sub);
  }
  auto run = [add, args, actions] {
    std::optional<std::string> token;
    if (!args->token_file.empty()) {
      token = net::read_auth_token(args->token_file);
    }
    for (const auto& [name, sub] : actions) {
      if (sub->parsed()) {
        try {
          master_client client(args->master, token);
          return run_action(name, *add, client, *args);
        } catch (const master_call_error& e) {
          std::fprintf(stderr, "error: %s\n", e.what());
          return 1;
        } catch (const std::invalid_argument& e) {
          std::fprintf(stderr, "error: %s\n", e.what());
          return 2;
        }
      }
    }
    return 2;
  };
  return {cmd, run};
}

}  // namespace comfydist::cli
