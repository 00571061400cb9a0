// The master's configuration API against a real `comfydist serve`: add, edit, delete, every
// validation rule, unknown ids, launch refusals, a corrupt comfydist.json, and responsiveness
// with many unreachable workers.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "master_process.hpp"

namespace comfydist::testing {
namespace {

using namespace std::chrono_literals;

json body_of(const net::client_response& response) {
  return json::parse(response.body);
}

// The validation problem reported for `field_suffix` (e.g. ".port"), or null.
json field_problem(const net::client_response& response, const std::string& field_suffix) {
  const json body = body_of(response);
  for (const auto& f : body["error"]["fields"]) {
    const std::string field = f.value("field", "");
    if (field.size() >= field_suffix.size() &&
        field.compare(field.size() - field_suffix.size(), field_suffix.size(), field_suffix) == 0) {
      return f;
    }
  }
  return nullptr;
}

TEST(MasterApi, AddEditDeleteWorkers) {
  master_process master({test_config(), std::nullopt, {"--no-auto-launch"}});
  EXPECT_EQ(master.workers().size(), 0U);

  json add = json::object();
  add["name"] = "lan box";
  add["type"] = "remote";
  add["host"] = "http://127.0.0.1:9/ignored/path";  // a scheme, port and path are normalised
  auto response = master.request_json("POST", "/distributed/workers", add);
  ASSERT_EQ(response.status, 200) << response.body;
  const json added = body_of(response);
  const std::string id = added.at("id");
  EXPECT_EQ(id.size(), 36U);
  EXPECT_EQ(added["host"], "127.0.0.1");
  EXPECT_EQ(added["port"], 9);
  EXPECT_EQ(added["type"], "remote");
  EXPECT_TRUE(added.contains("state"));

  json local = json::object();
  local["name"] = "local one";
  local["port"] = free_port();
  response = master.request_json("POST", "/distributed/workers", local);
  ASSERT_EQ(response.status, 200) << response.body;
  const json added_local = body_of(response);
  EXPECT_EQ(added_local["type"], "local");
  EXPECT_EQ(added_local["state"], "stopped");

  json cloud = json::object();
  cloud["name"] = "pod";
  cloud["type"] = "cloud";
  cloud["host"] = "https://abc-8189.proxy.example.net/";
  response = master.request_json("POST", "/distributed/workers", cloud);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body_of(response)["port"], 443);
  EXPECT_EQ(body_of(response)["url"], "https://abc-8189.proxy.example.net");

  json edit = json::object();
  edit["name"] = "renamed";
  edit["enabled"] = false;
  response = master.request_json("PATCH", "/distributed/workers/" + id, edit);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body_of(response)["name"], "renamed");
  EXPECT_EQ(body_of(response)["enabled"], false);
  master.wait_state(id, "disabled", 5s);

  // Stored on disk, unknown keys of the file kept.
  std::ifstream in(master.data_dir() / "data" / "comfydist.json");
  const json stored = json::parse(in);
  EXPECT_EQ(stored["workers"].size(), 3U);
  EXPECT_EQ(stored["workers"][0]["name"], "renamed");

  response = master.request("DELETE", "/distributed/workers/" + id);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(master.workers().size(), 2U);
  EXPECT_TRUE(master.worker(id).is_null());
  // The config route shows the same list.
  response = master.request("GET", "/distributed/config");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(body_of(response)["workers"].size(), 2U);
  EXPECT_TRUE(body_of(response)["load_problem"].is_null());
}

TEST(MasterApi, EveryConfigRuleAnswers400WithFields) {
  json config = test_config();
  const int local_port = free_port();
  const int remote_port = free_port();
  config["workers"].push_back(local_worker("existing local", local_port));
  config["workers"].push_back(remote_worker("existing remote", "10.1.2.3", remote_port));
  master_process master({config, std::nullopt, {"--no-auto-launch"}});

  struct rule {
    std::string what;
    json body;
    std::string field;  // suffix of the reported field
  };
  const auto make = [](const std::string& text) { return json::parse(text); };
  const std::vector<rule> rules{
      {"name missing", make(R"({"type": "remote", "host": "10.0.0.1", "port": 8189})"), ".name"},
      {"host missing (remote)", make(R"({"name": "r", "type": "remote", "port": 8189})"), ".host"},
      {"host missing (cloud)", make(R"({"name": "c", "type": "cloud"})"), ".host"},
      {"port 0", make(R"({"name": "p", "type": "remote", "host": "10.0.0.1", "port": 0})"),
       ".port"},
      {"port 70000", make(R"({"name": "p", "type": "remote", "host": "10.0.0.1", "port": 70000})"),
       ".port"},
      {"two local workers on one port",
       make(R"({"name": "l", "type": "local", "port": )" + std::to_string(local_port) + "}"),
       ".port"},
      {"a local worker on the master's port", make(R"({"name": "l", "port": 8188})"), ".port"},
      {"two workers on one host:port",
       make(R"({"name": "r", "type": "remote", "host": "10.1.2.3", "port": )" +
            std::to_string(remote_port) + "}"),
       ".port"},
      {"extra_args with ;", make(R"({"name": "x", "extra_args": "--foo; rm -rf /"})"),
       ".extra_args"},
      {"extra_args with $(id)", make(R"j({"name": "x", "extra_args": "--user $(id)"})j"),
       ".extra_args"},
  };
  for (const auto& r : rules) {
    SCOPED_TRACE(r.what);
    const auto response = master.request_json("POST", "/distributed/workers", r.body);
    ASSERT_EQ(response.status, 400) << response.body;
    const json body = body_of(response);
    EXPECT_EQ(body["error"]["type"], "invalid_config");
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
    const json problem = field_problem(response, r.field);
    ASSERT_FALSE(problem.is_null()) << response.body;
    EXPECT_FALSE(problem["message"].get<std::string>().empty());
  }
  // PATCH checks the same rules; nothing was stored.
  const std::string id = config["workers"][1]["id"];
  const auto response =
      master.request_json("PATCH", "/distributed/workers/" + id, make(R"({"port": 0})"));
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_EQ(master.workers().size(), 2U);
  EXPECT_EQ(master.worker(id)["port"], remote_port);
  // A body that is not an object.
  EXPECT_EQ(master.request("POST", "/distributed/workers", "[1, 2]").status, 400);
  EXPECT_EQ(master.request("POST", "/distributed/workers", "{not json").status, 400);
}

TEST(MasterApi, UnknownIdsAnd409And400ForLaunches) {
  json config = test_config();
  config["workers"].push_back(local_worker("local", free_port()));
  config["workers"].push_back(remote_worker("remote", "127.0.0.1", free_port()));
  master_process master({config, std::nullopt, {"--no-auto-launch"}});
  const std::string unknown = "/distributed/workers/00000000-0000-4000-8000-000000000000";
  EXPECT_EQ(master.request_json("PATCH", unknown, json::parse(R"({"name": "x"})")).status, 404);
  EXPECT_EQ(master.request("DELETE", unknown).status, 404);
  EXPECT_EQ(master.request("POST", unknown + "/launch").status, 404);
  EXPECT_EQ(master.request("POST", unknown + "/stop").status, 404);
  EXPECT_EQ(master.request("GET", unknown + "/log").status, 404);
  const auto not_found = master.request("DELETE", unknown);
  EXPECT_EQ(body_of(not_found)["error"]["type"], "worker_not_found");

  const std::string remote = config["workers"][1]["id"];
  auto response = master.request("POST", "/distributed/workers/" + remote + "/launch");
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_EQ(body_of(response)["error"]["type"], "not_local");
  EXPECT_EQ(master.request("GET", "/distributed/workers/" + remote + "/log").status, 404);

  const std::string local = config["workers"][0]["id"];
  response = master.request("POST", "/distributed/workers/" + local + "/launch");
  ASSERT_EQ(response.status, 200) << response.body;
  response = master.request("POST", "/distributed/workers/" + local + "/launch");
  EXPECT_EQ(response.status, 409) << response.body;
  EXPECT_EQ(body_of(response)["error"]["type"], "already_running");
  master.wait_state(local, "idle");
}

TEST(MasterApi, CorruptConfigIsReportedAndMovedAside) {
  const std::string corrupt = "{\n  \"workers\": [\n    {\"name\": \"a\",,}\n  ]\n}\n";
  master_process master({nullptr, corrupt, {"--no-auto-launch"}});
  const auto response = master.request("GET", "/distributed/config");
  ASSERT_EQ(response.status, 200);
  const json body = body_of(response);
  ASSERT_TRUE(body["load_problem"].is_string()) << response.body;
  const std::string problem = body["load_problem"];
  const std::string path = (master.data_dir() / "data" / "comfydist.json").string();
  EXPECT_NE(problem.find(path + ":3:"), std::string::npos) << problem;
  EXPECT_NE(problem.find("moved to"), std::string::npos) << problem;
  bool found = false;
  for (const auto& entry : std::filesystem::directory_iterator(master.data_dir() / "data")) {
    if (entry.path().filename().string().rfind("comfydist.json.corrupt-", 0) == 0) {
      std::ifstream in(entry.path());
      const std::string kept((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      EXPECT_EQ(kept, corrupt);
      found = true;
    }
  }
  EXPECT_TRUE(found);
  // The master still works.
  EXPECT_EQ(master.request("GET", "/distributed/workers").status, 200);
}

TEST(MasterApi, HundredUnreachableWorkersKeepTheMasterResponsive) {
  json config = test_config();
  // Ports bound at the same time are distinct; closed again, they refuse connections.
  std::vector<int> ports;
  {
    std::vector<std::uint16_t> held;
    for (int i = 0; i < 100; ++i) {
      held.push_back(free_port());
    }
    std::sort(held.begin(), held.end());
    held.erase(std::unique(held.begin(), held.end()), held.end());
    ports.assign(held.begin(), held.end());
  }
  for (std::size_t i = 0; i < ports.size(); ++i) {
    config["workers"].push_back(
        remote_worker("closed " + std::to_string(i), "127.0.0.1", ports[i]));
  }
  master_process master({config, std::nullopt, {}});
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  std::chrono::milliseconds slowest{0};
  while (std::chrono::steady_clock::now() < deadline) {
    const auto start = std::chrono::steady_clock::now();
    const json workers = master.workers();
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    slowest = std::max(slowest, took);
    EXPECT_EQ(workers.size(), ports.size());
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_LT(slowest.count(), 1000);
  const json first = master.wait_worker(
      config["workers"][0]["id"],
      [](const json& w) { return w["state"] == "offline" && w["last_error"].is_string(); }, 10s,
      "offline with a reason");
  EXPECT_NE(first["last_error"].get<std::string>().find("refused"), std::string::npos)
      << first.dump();
}

}  // namespace
}  // namespace comfydist::testing
