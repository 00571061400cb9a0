// End-to-end prompt execution against the real worker: queueing, WebSocket events, history,
// outputs, caching, errors at run time, interrupt.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/uuid.hpp"
#include "image/codecs.hpp"
#include "worker_process.hpp"

namespace comfydist::testing {
namespace {

json empty_to_save(int width, int height, int batch, const std::string& prefix) {
  return json::parse(R"({
    "1": {"class_type": "EmptyImage", "inputs": {"width": )" +
                     std::to_string(width) + R"(, "height": )" + std::to_string(height) +
                     R"(, "batch_size": )" + std::to_string(batch) + R"(, "color": 16744448}},
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": ")" +
                     prefix + R"("}}})");
}

json queue(const worker_process& worker, const json& prompt, const std::string& client_id) {
  json body = json::object();
  body["prompt"] = prompt;
  body["client_id"] = client_id;
  const auto response = worker.post_json("/prompt", body);
  EXPECT_EQ(response.status, 200) << response.body;
  return json::parse(response.body);
}

TEST(PromptFlow, RunsAPromptAndReportsLikeComfyUI) {
  worker_process worker;
  const std::string client = make_uuid4();
  ws_listener ws(worker.port(), client);
  const auto hello = ws.until("status", std::nullopt);
  ASSERT_EQ(hello.back()["data"]["sid"], client);
  EXPECT_EQ(hello.back()["data"]["status"]["exec_info"]["queue_remaining"], 0);

  const json reply = queue(worker, empty_to_save(64, 48, 2, "t"), client);
  const std::string prompt_id = reply["prompt_id"];
  EXPECT_TRUE(is_canonical_uuid(prompt_id));
  EXPECT_EQ(reply["number"], 0);
  EXPECT_EQ(reply["node_errors"], json::object());

  const auto messages = ws.until_done(prompt_id);
  const auto types = types_of(messages);
  // status(put) ... execution_start, execution_cached, executing x3, executed, success, status,
  // executing null.
  auto pos = [&](const std::string& t) {
    return std::find(types.begin(), types.end(), t) - types.begin();
  };
  EXPECT_LT(pos("execution_start"), pos("execution_cached"));
  EXPECT_LT(pos("execution_cached"), pos("executing"));
  EXPECT_LT(pos("executed"), pos("execution_success"));
  EXPECT_EQ(types.back(), "executing");
  EXPECT_EQ(types[types.size() - 2], "status");
  EXPECT_EQ(std::count(types.begin(), types.end(), "executing"), 4);
  const auto executed = *std::find_if(messages.begin(), messages.end(),
                                      [](const json& m) { return m["type"] == "executed"; });
  EXPECT_EQ(executed["data"]["node"], "3");
  const json images = executed["data"]["output"]["images"];
  ASSERT_EQ(images.size(), 2U);
  EXPECT_EQ(images[0]["filename"], "t_00001_.png");
  EXPECT_EQ(images[1]["filename"], "t_00002_.png");
  EXPECT_EQ(images[0]["type"], "output");

  const auto history = worker.get("/history/" + prompt_id);
  ASSERT_EQ(history.status, 200);
  const json entry = json::parse(history.body)[prompt_id];
  EXPECT_EQ(entry["status"]["status_str"], "success");
  EXPECT_EQ(entry["status"]["completed"], true);
  EXPECT_EQ(entry["outputs"]["3"]["images"], images);
  EXPECT_EQ(entry["prompt"][1], prompt_id);
  EXPECT_EQ(entry["prompt"][4], json::array({"3"}));
  EXPECT_EQ(entry["prompt"][3]["client_id"], client);
  EXPECT_EQ(entry["meta"]["3"]["node_id"], "3");
  const auto& hist_messages = entry["status"]["messages"];
  ASSERT_EQ(hist_messages.size(), 3U);
  EXPECT_EQ(hist_messages[0][0], "execution_start");
  EXPECT_EQ(hist_messages[2][0], "execution_success");

  const auto view = worker.get("/view?filename=t_00001_.png&subfolder=&type=output");
  ASSERT_EQ(view.status, 200);
  EXPECT_EQ(view.headers.at("content-type"), "image/png");
  EXPECT_EQ(view.headers.at("content-disposition"), "filename=\"t_00001_.png\"");
  const auto decoded = image::decode_image(view.body);
  EXPECT_EQ(decoded.image.width, 64);
  EXPECT_EQ(decoded.image.height, 48);
  // 0xFF8000 inverted: 1 - 128/255 in float32 is 0.4980392, times 255 is 126.99999, which
  // ComfyUI's uint8 conversion truncates to 126.
  EXPECT_EQ(decoded.image.pixels[0], 0);
  EXPECT_EQ(decoded.image.pixels[1], 126);
  EXPECT_EQ(decoded.image.pixels[2], 255);
  ASSERT_FALSE(decoded.text_chunks.empty());
  EXPECT_EQ(decoded.text_chunks[0].keyword, "prompt");

  // The identical prompt again: everything cached, no new file.
  const json again = queue(worker, empty_to_save(64, 48, 2, "t"), client);
  const auto cached_messages = ws.until_done(again["prompt_id"]);
  const auto cached = *std::find_if(cached_messages.begin(), cached_messages.end(),
                                    [](const json& m) { return m["type"] == "execution_cached"; });
  EXPECT_EQ(cached["data"]["nodes"], json::array({"1", "2", "3"}));
  const auto cached_types = types_of(cached_messages);
  EXPECT_EQ(std::count(cached_types.begin(), cached_types.end(), "executing"), 1);
  const auto re_executed = *std::find_if(cached_messages.begin(), cached_messages.end(),
                                         [](const json& m) { return m["type"] == "executed"; });
  EXPECT_EQ(re_executed["data"]["output"]["images"], images);
  EXPECT_FALSE(std::filesystem::exists(worker.data_dir() / "data/output/t_00003_.png"));
}

TEST(PromptFlow, PreviewGoesToTempAndGetPromptCountsTheQueue) {
  worker_process worker;
  const std::string client = "client-preview";
  ws_listener ws(worker.port(), client);
  const json prompt = json::parse(R"({
    "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 255}},
    "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}})");
  const json reply = queue(worker, prompt, client);
  const auto messages = ws.until_done(reply["prompt_id"]);
  const auto executed = *std::find_if(messages.begin(), messages.end(),
                                      [](const json& m) { return m["type"] == "executed"; });
  const json image = executed["data"]["output"]["images"][0];
  EXPECT_EQ(image["type"], "temp");
  const std::string name = image["filename"];
  EXPECT_EQ(name.rfind("ComfyUI_temp_", 0), 0U) << name;
  EXPECT_EQ(worker.get("/view?filename=" + name + "&type=temp").status, 200);
  const json status = json::parse(worker.get("/prompt").body);
  EXPECT_EQ(status["exec_info"]["queue_remaining"], 0);
  EXPECT_EQ(json::parse(worker.get("/api/queue").body),
            json::parse(R"({"queue_running": [], "queue_pending": []})"));
}

TEST(PromptFlow, FailingNodeReportsExecutionErrorAndWorkerKeepsServing) {
  worker_process worker;
  std::ofstream(worker.data_dir() / "data/input/broken.png") << "this is not an image";
  const std::string client = "client-error";
  ws_listener ws(worker.port(), client);
  const json prompt = json::parse(R"({
    "1": {"class_type": "LoadImage", "inputs": {"image": "broken.png"}},
    "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}})");
  const json reply = queue(worker, prompt, client);
  const auto messages = ws.until_done(reply["prompt_id"]);
  const auto error = *std::find_if(messages.begin(), messages.end(),
                                   [](const json& m) { return m["type"] == "execution_error"; });
  EXPECT_EQ(error["data"]["node_id"], "1");
  EXPECT_EQ(error["data"]["node_type"], "LoadImage");
  for (const char* key : {"prompt_id", "executed", "exception_message", "exception_type",
                          "traceback", "current_inputs", "current_outputs", "timestamp"}) {
    EXPECT_TRUE(error["data"].contains(key)) << key;
  }
  const json entry =
      json::parse(worker.get("/history/" + reply["prompt_id"].get<std::string>()).body);
  EXPECT_EQ(entry.begin().value()["status"]["status_str"], "error");
  EXPECT_EQ(worker.get("/system_stats").status, 200);
  EXPECT_TRUE(worker.alive());
}

TEST(PromptFlow, InterruptStopsALongPrompt) {
  worker_process worker;
  const std::string client = "client-interrupt";
  ws_listener ws(worker.port(), client);
  const json prompt = json::parse(R"({
    "1": {"class_type": "EmptyImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 16, "color": 0}},
    "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 31, "sigma": 1.0}},
    "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}})");
  const json reply = queue(worker, prompt, client);
  ws.until("executing", std::string(reply["prompt_id"]));
  ASSERT_EQ(worker.post_json("/interrupt", json::object()).status, 200);
  const auto messages = ws.until_done(reply["prompt_id"], std::chrono::seconds(60));
  const auto types = types_of(messages);
  EXPECT_NE(std::find(types.begin(), types.end(), "execution_interrupted"), types.end());
  const json entry =
      json::parse(worker.get("/history/" + reply["prompt_id"].get<std::string>()).body);
  EXPECT_EQ(entry.begin().value()["status"]["status_str"], "error");
}

TEST(PromptFlow, QueueClearDeleteAndHistoryDelete) {
  worker_process worker;
  const std::string client = "client-queue";
  ws_listener ws(worker.port(), client);
  // A slow first prompt keeps the others pending.
  const json slow = json::parse(R"({
    "1": {"class_type": "EmptyImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 16, "color": 0}},
    "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 31, "sigma": 1.0}},
    "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}})");
  const json first = queue(worker, slow, client);
  const json second = queue(worker, empty_to_save(8, 8, 1, "q2"), client);
  const json third = queue(worker, empty_to_save(8, 8, 1, "q3"), client);
  json queue_state = json::parse(worker.get("/queue").body);
  EXPECT_EQ(queue_state["queue_pending"].size() + queue_state["queue_running"].size(), 3U);
  json del = json::object();
  del["delete"] = json::array({second["prompt_id"]});
  ASSERT_EQ(worker.post_json("/queue", del).status, 200);
  ASSERT_EQ(worker.post_json("/queue", json::parse(R"({"clear": true})")).status, 200);
  queue_state = json::parse(worker.get("/queue").body);
  EXPECT_EQ(queue_state["queue_pending"].size(), 0U);
  ASSERT_EQ(worker.post_json("/interrupt", json::object()).status, 200);
  ws.until_done(first["prompt_id"]);
  EXPECT_EQ(json::parse(worker.get("/history").body).size(), 1U);
  ASSERT_EQ(worker.post_json("/history", json::parse(R"({"clear": true})")).status, 200);
  EXPECT_EQ(json::parse(worker.get("/history").body), json::object());
  (void)third;
}

}  // namespace
}  // namespace comfydist::testing
