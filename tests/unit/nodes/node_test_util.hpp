// Test harness for node unit tests: a node_context over temporary data folders, and helpers to
// build images and run a registered node.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include "engine/node_definition.hpp"
#include "engine/node_registry.hpp"
#include "nodes/builtin_nodes.hpp"

namespace comfydist::nodes::test {

namespace fs = std::filesystem;

// input/, output/ and temp/ under a fresh temporary folder, removed at the end of the test.
class temp_folders {
 public:
  temp_folders() {
    std::random_device seed;
    root_ = fs::temp_directory_path() /
            ("comfydist_nodes_" + std::to_string(seed()) + "_" + std::to_string(seed()));
    fs::create_directories(root_ / "input");
    fs::create_directories(root_ / "output");
    fs::create_directories(root_ / "temp");
  }
  ~temp_folders() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  temp_folders(const temp_folders&) = delete;
  temp_folders& operator=(const temp_folders&) = delete;

  const fs::path& root() const { return root_; }
  engine::node_environment environment() const {
    engine::node_environment env;
    env.input_dir = root_ / "input";
    env.output_dir = root_ / "output";
    env.temp_dir = root_ / "temp";
    return env;
  }

 private:
  fs::path root_;
};

class test_context : public engine::node_context {
 public:
  engine::node_environment env;
  std::string id = "7";
  std::string prompt_identifier = "prompt-1";
  json prompt_value = nullptr;
  json extra_pnginfo_value = nullptr;
  bool interrupted = false;
  int interrupt_checks = 0;
  // When >= 0, the prompt counts as interrupted after this many checks.
  int interrupt_after = -1;

  const engine::node_environment& environment() const override { return env; }
  const std::string& node_id() const override { return id; }
  const std::string& prompt_id() const override { return prompt_identifier; }
  const json& prompt() const override { return prompt_value; }
  const json& extra_pnginfo() const override { return extra_pnginfo_value; }
  void progress(std::int64_t, std::int64_t) override { check_interrupt(); }
  void check_interrupt() override {
    ++interrupt_checks;
    if (interrupted || (interrupt_after >= 0 && interrupt_checks > interrupt_after)) {
      throw engine::interrupted_error();
    }
  }
};

inline const engine::node_registry& registry() {
  static const engine::node_registry instance = [] {
    engine::node_registry r;
    register_builtin_nodes(r);
    return r;
  }();
  return instance;
}

inline const engine::node_definition& definition(const std::string& name) {
  const auto* found = registry().find(name);
  if (found == nullptr) {
    throw std::runtime_error("node not registered: " + name);
  }
  return *found;
}

// Runs a fresh instance of `name` once.
inline engine::node_result run(const std::string& name, engine::node_inputs inputs,
                               engine::node_context& context) {
  return definition(name).create()->execute(inputs, context);
}

// A B×H×W×C image whose values come from f(b, y, x, c).
inline engine::image_ptr make_image(int b, int h, int w, int c,
                                    const std::function<float(int, int, int, int)>& f) {
  auto image = std::make_shared<engine::image_tensor>(b, h, w, c);
  std::size_t i = 0;
  for (int bi = 0; bi < b; ++bi) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int ci = 0; ci < c; ++ci) {
          image->data[i++] = f(bi, y, x, ci);
        }
      }
    }
  }
  return image;
}

inline float at(const engine::image_tensor& image, int b, int y, int x, int c) {
  return image
      .data[((static_cast<std::size_t>(b) * image.height + y) * image.width + x) * image.channels +
            c];
}

inline engine::image_ptr output_image(const engine::node_result& result, std::size_t index = 0) {
  return std::get<engine::image_ptr>(result.outputs.at(index));
}

}  // namespace comfydist::nodes::test
