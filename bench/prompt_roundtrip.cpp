// Round trip of a minimal prompt (EmptyImage 64×64 → PreviewImage) from POST /prompt to
// execution_success on the WebSocket, over N prompts against a running worker. Each prompt uses
// another colour so that nothing is served from the cache.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "net/http_client.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_prompt_roundtrip PORT [COUNT]\n");
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const int count = argc > 2 ? std::stoi(argv[2]) : 1000;
  comfydist::net::websocket_client ws("127.0.0.1", port, "/ws?clientId=bench");
  ws.receive(std::chrono::seconds(5));  // status on connect
  std::vector<double> ms;
  for (int i = 0; i < count; ++i) {
    const std::string body =
        R"({"client_id": "bench", "prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": )" +
        std::to_string(i) +
        R"(}}, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}})";
    const auto start = std::chrono::steady_clock::now();
    const auto reply = comfydist::net::http_fetch("127.0.0.1", port, "POST", "/prompt", body,
                                                  {{"Content-Type", "application/json"}});
    if (reply.status != 200) {
      std::fprintf(stderr, "POST /prompt failed: %d %s\n", reply.status, reply.body.c_str());
      return 1;
    }
    for (;;) {
      auto message = ws.receive(std::chrono::seconds(30));
      if (!message) {
        std::fprintf(stderr, "timed out waiting for execution_success\n");
        return 1;
      }
      if (message->data.find("\"execution_success\"") != std::string::npos) {
        break;
      }
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[static_cast<std::size_t>(p * (ms.size() - 1))]; };
  std::printf("{\"prompts\": %d, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}\n", count,
              pct(0.5), pct(0.99), ms.back());
  return 0;
}
