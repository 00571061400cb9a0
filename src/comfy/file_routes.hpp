// GET /view and POST /upload/image over a process's input/, output/ and temp/ folders, every name
// confined to its folder: served by the native worker and by the master's front door alike.
#pragma once

#include <filesystem>
#include <functional>
#include <mutex>
#include <string>

#include "common/task_pool.hpp"
#include "net/http_server.hpp"

namespace comfydist::comfy {

struct file_folders {
  std::filesystem::path input_dir;
  std::filesystem::path output_dir;
  std::filesystem::path temp_dir;
  // Upload de-duplication and renaming must see a stable folder: one lock per process.
  std::mutex* upload_mutex = nullptr;
  // Decoding, hashing and preview conversions run here, off the I/O threads.
  task_pool* pool = nullptr;
};

// Registers a route (the caller adds /api twins and its auth guard).
using route_adder =
    std::function<void(const std::string& method, const std::string& path, net::http_handler)>;

void add_file_routes(const route_adder& add, const file_folders& folders);

}  // namespace comfydist::comfy
