// Configuration parsing, validation, storage and import.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/uuid.hpp"
#include "master/config_error.hpp"
#include "master/config_store.hpp"
#include "master/config_validation.hpp"
#include "master/distributed_import.hpp"
#include "master/shell_args.hpp"

namespace comfydist::master {
namespace {
namespace fs = std::filesystem;

worker_config local_worker(const std::string& name, int port) {
  worker_config w;
  w.id = make_uuid4();
  w.name = name;
  w.port = port;
  return w;
}

std::vector<std::string> fields(const std::vector<field_problem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) {
    out.push_back(p.field);
  }
  return out;
}

TEST(ShellArgs, SplitsLikeAShellWithoutOne) {
  EXPECT_EQ(split_shell_args("--a 1 'two words' \"x \\\"y\\\"\" back\\ slash"),
            (std::vector<std::string>{"--a", "1", "two words", "x \"y\"", "back slash"}));
  EXPECT_TRUE(split_shell_args("   ").empty());
  EXPECT_THROW(split_shell_args("--a; rm -rf /"), std::invalid_argument);
  EXPECT_THROW(split_shell_args("$(whoami)"), std::invalid_argument);
  EXPECT_THROW(split_shell_args("`id`"), std::invalid_argument);
  EXPECT_THROW(split_shell_args("'open"), std::invalid_argument);
}

TEST(ConfigValidation, ReportsEveryBrokenRuleWithItsField) {
  cluster_config config;
  config.workers.push_back(local_worker("", 8189));    // name missing
  config.workers.push_back(local_worker("b", 8189));   // port clash
  config.workers.push_back(local_worker("c", 8188));   // master's port
  config.workers.push_back(local_worker("d", 70000));  // out of range
  worker_config remote = local_worker("e", 8189);
  remote.type = worker_type::remote;  // host missing
  config.workers.push_back(remote);
  worker_config args = local_worker("f", 8195);
  args.extra_args = "--x; reboot";
  config.workers.push_back(args);
  const auto problems = check_config(config);
  const auto f = fields(problems);
  EXPECT_NE(std::find(f.begin(), f.end(), "workers[0].name"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "workers[1].port"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "workers[2].port"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "workers[3].port"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "workers[4].host"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "workers[5].extra_args"), f.end());
}

TEST(ConfigValidation, SameRemoteEndpointTwiceIsRefused) {
  cluster_config config;
  for (int i = 0; i < 2; ++i) {
    worker_config w = local_worker("r" + std::to_string(i), 8189);
    w.type = worker_type::remote;
    w.host = "10.0.0.7";
    config.workers.push_back(w);
  }
  EXPECT_EQ(fields(check_config(config)), std::vector<std::string>{"workers[1].port"});
}

TEST(ConfigValidation, NormalizesHosts) {
  auto h = normalize_host("https://pod-1.example.com/some/path/");
  EXPECT_EQ(h.host, "pod-1.example.com");
  EXPECT_TRUE(h.https);
  h = normalize_host("192.168.1.5:8190");
  EXPECT_EQ(h.host, "192.168.1.5");
  EXPECT_EQ(h.port, 8190);
  h = normalize_host("[::1]:9000");
  EXPECT_EQ(h.host, "::1");
  EXPECT_EQ(h.port, 9000);
}

class ConfigStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cd-config-" + make_uuid4_hex());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ConfigStoreTest, UnknownKeysSurviveARewrite) {
  std::ofstream(dir_ / "comfydist.json")
      << R"({"master": {"name": "M", "host": "", "port": 8188, "color": "blue"},
    "workers": [{"id": "0b6c7f36-1f7e-4d0e-9a52-2f6a2b1f0c11", "name": "w", "port": 8189, "future": 1}],
    "settings": {"auto_launch_workers": false, "experimental": {"x": 1}}, "panel": {"theme": "dark"}})";
  config_store store(dir_ / "comfydist.json");
  store.load();
  EXPECT_FALSE(store.load_problem());
  store.update([](cluster_config& c) { c.master.name = "Renamed"; });
  std::ifstream in(dir_ / "comfydist.json");
  const json written = json::parse(in);
  EXPECT_EQ(written["master"]["name"], "Renamed");
  EXPECT_EQ(written["master"]["color"], "blue");
  EXPECT_EQ(written["workers"][0]["future"], 1);
  EXPECT_EQ(written["settings"]["experimental"]["x"], 1);
  EXPECT_EQ(written["settings"]["auto_launch_workers"], false);
  EXPECT_EQ(written["panel"]["theme"], "dark");
}

TEST_F(ConfigStoreTest, CorruptFileIsMovedAsideAndReportedWithItsLine) {
  std::ofstream(dir_ / "comfydist.json") << "{\n  \"master\": {\n    \"name\": \"M\",,\n  }\n}\n";
  config_store store(dir_ / "comfydist.json");
  store.load();
  ASSERT_TRUE(store.load_problem());
  EXPECT_NE(store.load_problem()->find("comfydist.json:3"), std::string::npos)
      << *store.load_problem();
  EXPECT_FALSE(fs::exists(dir_ / "comfydist.json"));
  int aside = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    aside += entry.path().filename().string().rfind("comfydist.json.corrupt-", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(aside, 1);
}

TEST_F(ConfigStoreTest, InvalidUpdateChangesNothing) {
  config_store store(dir_ / "comfydist.json");
  store.load();
  store.update([](cluster_config& c) { c.workers.push_back(local_worker("a", 8189)); });
  EXPECT_THROW(
      store.update([](cluster_config& c) { c.workers.push_back(local_worker("b", 8189)); }),
      config_error);
  EXPECT_EQ(store.snapshot().workers.size(), 1U);
}

TEST(DistributedImport, MapsTheExtensionsConfig) {
  const json gpu_config = json::parse(R"({
    "master": {"host": "https://192.168.1.10:8188/"},
    "workers": [
      {"id": "w1", "name": "Worker 1", "port": 8189, "cuda_device": 1, "enabled": true, "extra_args": "--lowvram"},
      {"id": "w2", "name": "Pod", "type": "cloud", "host": "https://abc-8188.proxy.runpod.net/", "enabled": false},
      {"id": "w3", "name": "LAN", "type": "remote", "host": "192.168.1.20", "listen_port": 8190}],
    "settings": {"auto_launch_workers": true, "worker_timeout_seconds": 90, "master_delegate_only": true},
    "tunnel": {"status": "stopped"}})");
  const auto result = import_distributed_config(gpu_config, cluster_config{});
  const auto& workers = result.config.workers;
  ASSERT_EQ(workers.size(), 3U);
  EXPECT_EQ(result.config.master.host, "192.168.1.10");
  EXPECT_EQ(workers[0].cuda_device, "1");
  EXPECT_EQ(workers[0].extra_args, "--lowvram");
  EXPECT_EQ(workers[0].engine, worker_engine::comfyui);
  EXPECT_TRUE(is_canonical_uuid(workers[0].id));
  EXPECT_EQ(workers[1].type, worker_type::cloud);
  EXPECT_EQ(workers[1].host, "abc-8188.proxy.runpod.net");
  EXPECT_EQ(workers[1].port, 443);
  EXPECT_FALSE(workers[1].enabled);
  EXPECT_EQ(workers[2].port, 8190);
  EXPECT_EQ(result.config.settings.worker_timeout_seconds, 90);
  EXPECT_TRUE(result.config.settings.has_auto_populated_workers);
  EXPECT_GE(result.notes.size(), 5U);
}

}  // namespace
}  // namespace comfydist::master
