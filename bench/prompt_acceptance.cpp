// POST /prompt acceptance rate with C concurrent clients for S seconds against a running worker:
// how many prompts per second the front door validates and queues.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_prompt_acceptance PORT [CLIENTS] [SECONDS]\n");
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const int clients = argc > 2 ? std::stoi(argv[2]) : 32;
  const int seconds = argc > 3 ? std::stoi(argv[3]) : 5;
  std::atomic<long> accepted{0};
  std::atomic<long> refused{0};
  const auto stop_at = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      int i = 0;
      while (std::chrono::steady_clock::now() < stop_at) {
        // A prompt that validates fully but is cheap to run (identical → cached after the first).
        const std::string body =
            R"({"prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": )" +
            std::to_string(c) +
            R"(}}, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}})";
        try {
          const auto reply = comfydist::net::http_fetch("127.0.0.1", port, "POST", "/prompt", body,
                                                        {{"Content-Type", "application/json"}});
          (reply.status == 200 ? accepted : refused)++;
        } catch (const std::exception&) {
          refused++;
        }
        ++i;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::printf(
      "{\"clients\": %d, \"seconds\": %d, \"accepted\": %ld, \"refused\": %ld, \"accepted_per_s\": "
      "%.1f}\n",
      clients, seconds, accepted.load(), refused.load(),
      static_cast<double>(accepted.load()) / seconds);
  return 0;
}
