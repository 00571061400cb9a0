// Process control and client helpers for the integration tests.
#include "worker_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "image/codecs.hpp"
#include "process_util.hpp"

namespace comfydist::testing {
namespace fs = std::filesystem;

worker_process::worker_process(std::vector<std::string> extra_args) {
  data_dir_ = make_temp_dir("comfydist-test");
  log_path_ = (data_dir_ / "worker.log").string();
  std::vector<std::string> args{"worker", "--port", "0", "--data-dir",
                                (data_dir_ / "data").string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = spawn_comfydist(args, log_path_);
  const std::regex ready("ready on port ([0-9]+)");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    const std::string log = read_all(log_path_);
    if (std::regex_search(log, match, ready)) {
      port_ = static_cast<std::uint16_t>(std::stoi(match[1]));
      return;
    }
    if (!alive()) {
      throw std::runtime_error("worker exited during start-up:\n" + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("worker not ready after 30 s:\n" + read_all(log_path_));
}

worker_process::~worker_process() {
  if (pid_ > 0 && alive()) {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200 && alive(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (alive()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::error_code ec;
  fs::remove_all(data_dir_, ec);
}

void worker_process::kill9() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

bool worker_process::alive() {
  if (pid_ <= 0) {
    return false;
  }
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

net::client_response worker_process::request(
    const std::string& method, const std::string& target, const std::string& body,
    const std::map<std::string, std::string>& headers) const {
  return net::http_fetch("127.0.0.1", port_, method, target, body, headers);
}

net::client_response worker_process::get(const std::string& target) const {
  return request("GET", target);
}

net::client_response worker_process::post(const std::string& target, const std::string& body,
                                          const std::map<std::string, std::string>& headers) const {
  return request("POST", target, body, headers);
}

net::client_response worker_process::post_json(const std::string& target, const json& body) const {
  return post(target, body.dump(), {{"Content-Type", "application/json"}});
}

ws_listener::ws_listener(std::uint16_t port, const std::string& client_id)
    : client_("127.0.0.1", port, "/ws?clientId=" + client_id) {}

std::vector<json> ws_listener::until(const std::string& type,
                                     const std::optional<std::string>& prompt_id,
                                     std::chrono::milliseconds timeout) {
  std::vector<json> messages;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto message = client_.receive(std::max(left, std::chrono::milliseconds(1)));
    if (!message) {
      break;
    }
    if (message->binary) {
      continue;
    }
    json parsed = json::parse(message->data);
    messages.push_back(parsed);
    if (parsed["type"] == type &&
        (!prompt_id ||
         (parsed["data"].is_object() && parsed["data"].value("prompt_id", "") == *prompt_id))) {
      return messages;
    }
  }
  throw std::runtime_error("no '" + type + "' message before the timeout");
}

std::vector<json> ws_listener::until_done(const std::string& prompt_id,
                                          std::chrono::milliseconds timeout) {
  std::vector<json> messages;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto batch = until("executing", prompt_id, std::max(left, std::chrono::milliseconds(1)));
    messages.insert(messages.end(), batch.begin(), batch.end());
    if (messages.back()["data"]["node"].is_null()) {
      return messages;
    }
  }
}

std::string make_png(int width, int height, int channels, std::uint8_t value) {
  image::pixel_image img;
  img.width = width;
  img.height = height;
  img.channels = channels;
  img.pixels.assign(img.byte_size(), value);
  return image::encode_png(img, 1);
}

std::vector<std::string> types_of(const std::vector<json>& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) {
    out.push_back(m["type"].get<std::string>());
  }
  return out;
}

}  // namespace comfydist::testing
