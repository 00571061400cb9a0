// Auth tokens on the master and on native workers, the refusal to listen on the network without
// one, and the `comfydist workers` command against a running master.
#include <gtest/gtest.h>

#include <fstream>

#include "master_process.hpp"
#include "worker_process.hpp"

namespace comfydist::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kToken = "s3cret-token-for-tests-0123456789";

// A token file that lives as long as the test.
struct token_file {
  fs::path path;
  token_file() {
    path = fs::temp_directory_path() /
           ("comfydist-token-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::ofstream(path) << kToken << "\n";
  }
  ~token_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

TEST(MasterAuth, TokenBearerAndLoginCookie) {
  token_file token;
  master_process master({test_config(), std::nullopt, {"--auth-token-file", token.path.string()}});
  EXPECT_EQ(master.request("GET", "/distributed/workers").status, 401);
  EXPECT_EQ(master.request("GET", "/api/distributed/config").status, 401);
  EXPECT_EQ(
      master.request("GET", "/distributed/workers", {}, {{"Authorization", "Bearer wrong"}}).status,
      401);
  EXPECT_EQ(master
                .request("GET", "/distributed/workers", {},
                         {{"Authorization", std::string("Bearer ") + kToken}})
                .status,
            200);

  EXPECT_EQ(
      master.request_json("POST", "/distributed/login", json::parse(R"({"token": "no"})")).status,
      401);
  json login = json::object();
  login["token"] = kToken;
  const auto response = master.request_json("POST", "/distributed/login", login);
  ASSERT_EQ(response.status, 200) << response.body;
  ASSERT_EQ(response.headers.count("set-cookie"), 1U);
  const std::string cookie =
      response.headers.at("set-cookie").substr(0, response.headers.at("set-cookie").find(';'));
  EXPECT_EQ(master.request("GET", "/distributed/workers", {}, {{"Cookie", cookie}}).status, 200);

  // /ws without the token is closed at once.
  net::websocket_client ws("127.0.0.1", master.port(), "/ws");
  EXPECT_FALSE(ws.receive(2s));
}

TEST(MasterAuth, ListeningOnTheNetworkWithoutATokenIsRefused) {
  const fs::path data =
      fs::temp_directory_path() / ("comfydist-listen-" + std::to_string(::getpid()));
  const auto result = run_comfydist(
      {"serve", "--listen", "0.0.0.0", "--port", "0", "--data-dir", data.string()}, 20s);
  std::error_code ec;
  fs::remove_all(data, ec);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("auth"), std::string::npos) << result.output;
}

TEST(MasterAuth, WorkerWithTokenRefusesStrangersAndServesTheMaster) {
  token_file token;
  worker_process worker({"--auth-token-file", token.path.string()});
  EXPECT_EQ(worker.get("/prompt").status, 401);
  EXPECT_EQ(worker.get("/api/system_stats").status, 401);
  EXPECT_EQ(
      worker.request("GET", "/prompt", {}, {{"Authorization", std::string("Bearer ") + kToken}})
          .status,
      200);
  net::websocket_client stranger("127.0.0.1", worker.port(), "/ws?clientId=x");
  EXPECT_FALSE(stranger.receive(2s));
  net::websocket_client friend_ws("127.0.0.1", worker.port(), "/ws?clientId=y",
                                  {{"Authorization", std::string("Bearer ") + kToken}});
  EXPECT_TRUE(friend_ws.receive(5s));

  // A master with the same token probes it with the token.
  json config = test_config();
  config["workers"].push_back(remote_worker("guarded", "127.0.0.1", worker.port()));
  master_process master({config, std::nullopt, {"--auth-token-file", token.path.string()}});
  master.default_headers["Authorization"] = std::string("Bearer ") + kToken;
  master.wait_state(config["workers"][0]["id"], "idle", 10s);
}

TEST(MasterCli, WorkersListAddAndErrors) {
  json config = test_config();
  config["workers"].push_back(remote_worker("table row", "127.0.0.1", free_port()));
  master_process master({config, std::nullopt, {}});
  const std::string url = "http://127.0.0.1:" + std::to_string(master.port());

  auto result = run_comfydist({"workers", "list", "--master", url});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("NAME"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("STATE"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("table row"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("remote"), std::string::npos) << result.output;

  result = run_comfydist({"workers", "add", "--master", url, "--name", "bad port", "--type",
                          "remote", "--host", "127.0.0.1", "--port", "70000"});
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("port: must be between 1 and 65535"), std::string::npos)
      << result.output;

  result = run_comfydist({"workers", "add", "--master", url, "--name", "second", "--type", "remote",
                          "--host", "127.0.0.1", "--port", std::to_string(free_port())});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(master.workers().size(), 2U);

  result = run_comfydist({"workers", "disable", "second", "--master", url});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  master.wait_state(master.workers()[1]["id"], "disabled", 5s);

  result = run_comfydist({"workers", "launch", "second", "--master", url});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("remote worker"), std::string::npos) << result.output;

  result = run_comfydist({"workers", "remove", "second", "--master", url});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(master.workers().size(), 1U);

  result = run_comfydist({"workers", "remove", "no such worker", "--master", url});
  EXPECT_EQ(result.exit_code, 1) << result.output;

  result = run_comfydist({"workers", "list", "--master", "http://127.0.0.1:1"});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("cannot reach the master"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace comfydist::testing
