// HTTP behaviour at the edge: /api aliases, unknown routes, body limits, CORS and the origin
// check, object_info against the captured ComfyUI definitions.
#include <gtest/gtest.h>

#include <fstream>

#include "worker_process.hpp"

namespace comfydist::testing {
namespace {

TEST(HttpEdge, RoutesExistUnderApiPrefixAndUnknownOnesAre404) {
  worker_process worker;
  for (const std::string path : {"/system_stats", "/features", "/models", "/embeddings",
                                 "/extensions", "/object_info", "/queue", "/prompt", "/history"}) {
    EXPECT_EQ(worker.get(path).status, 200) << path;
    EXPECT_EQ(worker.get("/api" + path).status, 200) << path;
  }
  const json stats = json::parse(worker.get("/system_stats").body);
  EXPECT_TRUE(stats["system"].contains("ram_total"));
  EXPECT_EQ(stats["devices"][0]["type"], "cpu");
  // Only loadable names: the bundled models by name, never the npm packages' files.
  const json upscale_models = json::parse(worker.get("/models/upscale_models").body);
  ASSERT_TRUE(upscale_models.is_array());
  for (const auto& name : upscale_models) {
    EXPECT_EQ(name.get<std::string>().find("node_modules"), std::string::npos) << name;
  }
  EXPECT_EQ(worker.get("/models/nonsense").status, 404);
  EXPECT_EQ(worker.get("/object_info/NoSuchNode").body, "{}");
  auto r = worker.get("/no/such/route");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "not_found");
  EXPECT_EQ(worker.request("DELETE", "/prompt").status, 405);
  EXPECT_EQ(worker.post("/interrupt", "").status, 200);
  EXPECT_EQ(worker.post("/free", "{\"free_memory\": true}").status, 200);
  EXPECT_EQ(worker.post("/queue", "nope").status, 400);
}

TEST(HttpEdge, BodiesOverTheLimitGet413) {
  worker_process worker({"--max-upload-size", "1"});
  const std::string big(2 * 1024 * 1024, 'x');
  const auto r = worker.post("/prompt", big, {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(worker.get("/system_stats").status, 200);
  EXPECT_EQ(json::parse(worker.get("/features").body)["max_upload_size"], 1048576);
}

TEST(HttpEdge, OriginCheckWithoutCors) {
  worker_process worker;
  const std::string host = "127.0.0.1:" + std::to_string(worker.port());
  auto r = worker.request("GET", "/system_stats", "",
                          {{"Host", host}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(r.status, 403);
  r = worker.request("GET", "/system_stats", "", {{"Host", host}, {"Origin", "http://" + host}});
  EXPECT_EQ(r.status, 200);
  r = worker.request("GET", "/system_stats", "", {{"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.headers.count("access-control-allow-origin"), 0U);
}

TEST(HttpEdge, CorsHeaderWhenEnabled) {
  worker_process worker({"--enable-cors-header", "http://panel.example"});
  auto r = worker.request("OPTIONS", "/prompt", "", {{"Origin", "http://panel.example"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("access-control-allow-origin"), "http://panel.example");
  EXPECT_EQ(r.headers.at("access-control-allow-methods"), "POST, GET, DELETE, PUT, OPTIONS, PATCH");
  EXPECT_EQ(r.headers.at("access-control-allow-headers"), "Content-Type, Authorization");
  EXPECT_EQ(r.headers.at("access-control-allow-credentials"), "true");
  r = worker.request("GET", "/system_stats", "", {{"Origin", "http://elsewhere.example"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("access-control-allow-origin"), "http://panel.example");
}

TEST(HttpEdge, ObjectInfoMatchesComfyUI) {
  worker_process worker;
  std::ifstream in(std::string(COMFYDIST_SOURCE_DIR) +
                   "/tests/fixtures/comfyui/object_info_core_nodes.json");
  const json expected = json::parse(in);
  const json actual = json::parse(worker.get("/object_info").body);
  for (const auto& [name, info] : expected.items()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(actual.contains(name));
    json want = info;
    json got = actual[name];
    if (name == "LoadImage") {
      // The file list depends on the input folder.
      want["input"]["required"]["image"][0] = json::array();
      got["input"]["required"]["image"][0] = json::array();
    }
    if (name == "ImageAddNoise") {
      // Our description adds that the noise is not bit-identical to PyTorch's generator.
      want.erase("description");
      got.erase("description");
    }
    EXPECT_EQ(got.dump(), want.dump());
  }
  const json one = json::parse(worker.get("/api/object_info/EmptyImage").body);
  EXPECT_EQ(one["EmptyImage"].dump(), expected["EmptyImage"].dump());
}

TEST(HttpEdge, WebSocketSendsStatusAndFeatureFlags) {
  worker_process worker;
  net::websocket_client ws("127.0.0.1", worker.port(), "/ws?clientId=abc");
  auto first = ws.receive(std::chrono::seconds(5));
  ASSERT_TRUE(first);
  const json status = json::parse(first->data);
  EXPECT_EQ(status["type"], "status");
  EXPECT_EQ(status["data"]["sid"], "abc");
  ws.send_text(R"({"type": "feature_flags", "data": {"supports_preview_metadata": true}})");
  auto reply = ws.receive(std::chrono::seconds(5));
  ASSERT_TRUE(reply);
  const json flags = json::parse(reply->data);
  EXPECT_EQ(flags["type"], "feature_flags");
  EXPECT_EQ(flags["data"]["supports_preview_metadata"], true);
  // Without a clientId the server makes one up.
  net::websocket_client anonymous("127.0.0.1", worker.port(), "/api/ws");
  auto hello = anonymous.receive(std::chrono::seconds(5));
  ASSERT_TRUE(hello);
  EXPECT_EQ(json::parse(hello->data)["data"]["sid"].get<std::string>().size(), 32U);
}

}  // namespace
}  // namespace comfydist::testing
