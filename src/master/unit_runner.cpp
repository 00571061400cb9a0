// One unit, start to finish, on one worker.
#include "master/unit_runner.hpp"

#include <spdlog/spdlog.h>

#include <regex>
#include <set>
#include <thread>

#include "comfy/comfy_client.hpp"
#include "common/file_io.hpp"
#include "common/safe_path.hpp"
#include "common/sha256.hpp"
#include "common/uuid.hpp"
#include "image/codecs.hpp"
#include "net/http_client.hpp"
#include "nodes/image/save_path.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
namespace {

using clock_type = std::chrono::steady_clock;

// Output naming takes the folder's highest counter: two units finishing together must not pick
// the same one.
std::mutex& output_naming_mutex() {
  static std::mutex mutex;
  return mutex;
}

comfy::comfy_endpoint endpoint_of(const worker_config& worker, const std::string& token) {
  comfy::comfy_endpoint endpoint;
  endpoint.scheme = worker.type == worker_type::cloud ? "https" : "http";
  endpoint.host = worker.type == worker_type::local ? "127.0.0.1" : worker.host;
  endpoint.port = static_cast<std::uint16_t>(worker.port);
  endpoint.auth_token = token;
  return endpoint;
}

// The files of the LoadImage-like inputs, uploaded under a content-addressed name; the prompt is
// rewritten to use those names.
void upload_inputs(comfy::comfy_client& client, const unit_run_request& request, json& prompt) {
  std::optional<std::set<std::string>> present;
  for (auto& [id, node] : prompt.items()) {
    if (!node.is_object()) {
      continue;
    }
    const std::string type = node.value("class_type", std::string());
    if (type != "LoadImage" && type != "LoadImageMask") {
      continue;
    }
    json& inputs = node["inputs"];
    if (!inputs.is_object() || !inputs.contains("image") || !inputs["image"].is_string()) {
      continue;
    }
    std::string name = inputs["image"].get<std::string>();
    const std::string annotation = " [input]";
    if (name.size() > annotation.size() &&
        name.compare(name.size() - annotation.size(), annotation.size(), annotation) == 0) {
      name.resize(name.size() - annotation.size());
    }
    const auto file = confine_path(request.input_dir, name);
    if (!file || !fs::is_regular_file(*file)) {
      throw std::runtime_error("the master has no input file '" + name + "'");
    }
    const std::string bytes = read_file(*file);
    const std::string remote_name =
        "cd-" + sha256_hex(bytes).substr(0, 20) + fs::path(name).extension().string();
    if (!present) {
      // One listing per unit tells which inputs the worker already holds.
      present.emplace();
      try {
        const json info = client.object_info(type);
        const json& list = info.at(type).at("input").at("required").at("image").at(0);
        if (list.is_array()) {
          for (const auto& entry : list) {
            if (entry.is_string()) {
              present->insert(entry.get<std::string>());
            }
          }
        }
      } catch (const json::exception&) {
        // A worker that does not list its inputs gets every file sent.
      }
    }
    if (present->count(remote_name) == 0) {
      client.upload_image(bytes, remote_name);
      present->insert(remote_name);
    }
    inputs["image"] = remote_name;
  }
}

// "ComfyUI_00012_.png" → "ComfyUI": the prefix SaveImage was given.
std::string save_prefix_of(const std::string& filename) {
  static const std::regex numbered(R"(^(.*)_\d{5,}_\.[A-Za-z0-9]+$)");
  std::smatch match;
  if (std::regex_match(filename, match, numbered)) {
    return match[1].str();
  }
  return fs::path(filename).stem().string();
}

unit_output store_output(const unit_run_request& request, const std::string& node_id,
                         bool collected, std::size_t position, const json& image,
                         const std::string& bytes, const image::pixel_image& pixels) {
  const std::string filename = image.value("filename", std::string());
  const std::string subfolder = image.value("subfolder", std::string());
  const std::string type = image.value("type", std::string("output"));
  std::string ext = fs::path(filename).extension().string();
  if (ext.empty() || ext.size() > 6) {
    ext = ".png";
  }
  unit_output out;
  out.node_id = node_id;
  if (collected) {
    out.type = "temp";
    out.subfolder = "collected/" + request.job_id;
    out.filename = "u" + std::to_string(request.unit_index) + "_" + node_id + "_" +
                   std::to_string(position) + ext;
    const fs::path folder = request.temp_dir / out.subfolder;
    fs::create_directories(folder);
    write_file_atomic(folder / out.filename, bytes);
    return out;
  }
  if (type == "output") {
    const std::lock_guard lock(output_naming_mutex());
    std::string prefix = save_prefix_of(fs::path(filename).filename().string());
    if (!subfolder.empty() && confine_path(request.output_dir, subfolder)) {
      prefix = subfolder + "/" + prefix;
    }
    const nodes::save_path where =
        nodes::get_save_image_path(prefix, request.output_dir, pixels.width, pixels.height);
    char counter[32];
    std::snprintf(counter, sizeof counter, "%05lld_", static_cast<long long>(where.counter));
    out.type = "output";
    out.subfolder = where.subfolder;
    out.filename = where.filename + "_" + counter + ext;
    write_file_atomic(where.folder / out.filename, bytes);
    return out;
  }
  out.type = "temp";
  out.filename = request.job_id.substr(0, 8) + "_u" + std::to_string(request.unit_index) + "_" +
                 std::to_string(position) + "_" + fs::path(filename).filename().string();
  if (!is_plain_file_name(out.filename)) {
    out.filename = request.job_id.substr(0, 8) + "_u" + std::to_string(request.unit_index) + "_" +
                   std::to_string(position) + ext;
  }
  fs::create_directories(request.temp_dir);
  // A preview is not worth an fsync: losing it in a power cut loses nothing of the job.
  write_file_atomic(request.temp_dir / out.filename, bytes, file_durability::cached);
  return out;
}

std::vector<unit_output> collect_outputs(comfy::comfy_client& client,
                                         const unit_run_request& request, const json& entry) {
  std::vector<unit_output> outputs;
  const json empty = json::object();
  const json& by_node =
      entry.contains("outputs") && entry["outputs"].is_object() ? entry["outputs"] : empty;
  for (const auto& [node_id, ui] : by_node.items()) {
    if (!ui.is_object() || !ui.contains("images") || !ui["images"].is_array()) {
      continue;
    }
    const bool collected =
        std::find(request.collected_outputs.begin(), request.collected_outputs.end(), node_id) !=
        request.collected_outputs.end();
    std::size_t position = 0;
    for (const auto& image : ui["images"]) {
      if (!image.is_object() || !image.contains("filename") || !image["filename"].is_string()) {
        throw std::runtime_error("the worker listed an output of node " + node_id +
                                 " without a file name");
      }
      const std::string bytes =
          client.view(image["filename"].get<std::string>(), image.value("subfolder", ""),
                      image.value("type", "output"), request.max_file_bytes);
      image::decoded_image decoded;
      try {
        decoded = image::decode_image(bytes);
      } catch (const std::invalid_argument& ex) {
        throw std::runtime_error("the worker returned a corrupt image for node " + node_id + " (" +
                                 image["filename"].get<std::string>() + "): " + ex.what());
      }
      if (request.check_image) {
        request.check_image(node_id, decoded.image.width, decoded.image.height);
      }
      outputs.push_back(
          store_output(request, node_id, collected, position++, image, bytes, decoded.image));
    }
  }
  return outputs;
}

// The message of the execution_error in a history entry's status, if any.
std::string history_error(const json& entry) {
  const json status = entry.value("status", json::object());
  for (const auto& message : status.value("messages", json::array())) {
    if (message.is_array() && message.size() == 2 && message[0] == "execution_error" &&
        message[1].is_object()) {
      return message[1].value("node_type", std::string("?")) + ": " +
             message[1].value("exception_message", std::string("failed"));
    }
  }
  return "the prompt failed on the worker";
}

enum class history_state { none, running, success, error };

history_state classify(const std::optional<json>& entry) {
  if (!entry) {
    return history_state::none;
  }
  const json status = entry->value("status", json::object());
  const std::string text = status.value("status_str", std::string());
  if (text == "error") {
    return history_state::error;
  }
  if (status.value("completed", false) || text == "success") {
    return history_state::success;
  }
  return history_state::running;
}

}  // namespace

std::int64_t steady_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now().time_since_epoch())
      .count();
}

void unit_run_control::abort(const std::string& reason) {
  {
    const std::lock_guard lock(mutex_);
    if (aborted_.load()) {
      return;
    }
    reason_ = reason;
  }
  aborted_.store(true);
}

std::string unit_run_control::abort_reason() const {
  const std::lock_guard lock(mutex_);
  return reason_;
}

unit_run_result run_unit(net::async_http_client& http, const unit_run_request& request,
                         unit_run_control& control) {
  unit_run_result result;
  const comfy::comfy_endpoint endpoint = endpoint_of(request.worker, request.auth_token);
  comfy::comfy_client client(http, endpoint);
  const std::string client_id = "comfydist-" + make_uuid4();
  try {
    json prompt = request.prompt;
    upload_inputs(client, request, prompt);
    // The WebSocket carries progress; without it (HTTPS workers) history polling does the job.
    std::unique_ptr<net::websocket_client> socket;
    if (endpoint.scheme == "http") {
      try {
        std::map<std::string, std::string> headers;
        if (!endpoint.auth_token.empty()) {
          headers["Authorization"] = "Bearer " + endpoint.auth_token;
        }
        socket = std::make_unique<net::websocket_client>(endpoint.host, endpoint.port,
                                                         "/ws?clientId=" + client_id, headers,
                                                         std::chrono::seconds(5));
      } catch (const std::exception& ex) {
        spdlog::warn("event=unit_ws_unavailable worker={} error=\"{}\"", request.worker.name,
                     ex.what());
      }
    }
    result.remote_prompt_id = client.queue_prompt(prompt, client_id);
    if (control.on_queued) {
      control.on_queued(result.remote_prompt_id);
    }
    const std::string& pid = result.remote_prompt_id;
    auto last_activity = steady_millis();
    auto running_since = clock_type::now();
    auto next_poll = clock_type::now() + std::chrono::milliseconds(socket ? 2000 : 300);
    int poll_failures = 0;
    bool finished_on_socket = false;
    const auto timeout_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(request.no_progress_timeout).count();
    std::optional<json> entry;
    for (;;) {
      if (control.aborted()) {
        try {
          client.cancel(pid);
        } catch (const std::exception&) {
          // The worker may be gone: that is often why the unit was aborted.
        }
        result.error = control.abort_reason();
        return result;
      }
      if (socket && !finished_on_socket) {
        const auto waited_from = clock_type::now();
        auto message = socket->receive(std::chrono::milliseconds(200));
        if (message && !message->binary) {
          json event;
          try {
            event = json::parse(message->data);
          } catch (const json::parse_error&) {
            event = json::object();
          }
          const std::string type = event.value("type", std::string());
          const json data = event.value("data", json::object());
          const bool ours = data.is_object() && data.value("prompt_id", std::string()) == pid;
          if (type == "progress" || type == "executing" || type == "executed" ||
              type == "execution_cached" || type == "progress_state") {
            if (control.worker_activity) {
              control.worker_activity->store(steady_millis());
            }
            if (ours) {
              last_activity = steady_millis();
            }
          }
          if (ours && type == "progress" && control.on_progress) {
            control.on_progress(data.value("value", std::int64_t{0}),
                                data.value("max", std::int64_t{1}));
          }
          if (ours && type == "execution_start") {
            last_activity = steady_millis();
            running_since = clock_type::now();
          }
          if (ours && type == "execution_error") {
            result.error = data.value("node_type", std::string("?")) + ": " +
                           data.value("exception_message", std::string("failed"));
            return result;
          }
          if (ours && type == "execution_interrupted") {
            result.error = "interrupted on the worker";
            return result;
          }
          if (ours && type == "execution_success") {
            finished_on_socket = true;
            result.run_seconds =
                std::chrono::duration<double>(clock_type::now() - running_since).count();
            next_poll = clock_type::now();
          }
        } else if (!message && clock_type::now() - waited_from < std::chrono::milliseconds(100)) {
          // An empty answer well before the wait ended: the socket closed. Poll from now on.
          socket.reset();
          next_poll = clock_type::now();
        }
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(finished_on_socket ? 5 : 250));
      }
      const auto now = clock_type::now();
      if (now >= next_poll) {
        try {
          entry = client.history_entry(pid);
          poll_failures = 0;
        } catch (const comfy::comfy_error& ex) {
          if (++poll_failures >= 5) {
            result.error = std::string("lost contact with the worker: ") + ex.what();
            return result;
          }
        }
        const history_state state = classify(entry);
        if (state == history_state::success) {
          break;
        }
        if (state == history_state::error) {
          result.error = history_error(*entry);
          return result;
        }
        next_poll = now + std::chrono::milliseconds(finished_on_socket ? 10 : socket ? 2000 : 300);
      }
      const std::int64_t worker_last =
          control.worker_activity ? control.worker_activity->load() : 0;
      if (steady_millis() - std::max(last_activity, worker_last) > timeout_ms) {
        try {
          client.cancel(pid);
        } catch (const std::exception&) {
          // Best effort: the unit is re-queued either way.
        }
        result.error = "no progress for " + std::to_string(request.no_progress_timeout.count()) +
                       " s on worker " + request.worker.name;
        return result;
      }
    }
    if (!finished_on_socket) {
      result.run_seconds = std::chrono::duration<double>(clock_type::now() - running_since).count();
    }
    result.outputs = collect_outputs(client, request, *entry);
    result.ok = true;
  } catch (const comfy::comfy_error& ex) {
    result.error = ex.what();
    if (ex.status() == 400 && !ex.body().empty()) {
      try {
        const json body = json::parse(ex.body());
        result.error += ": " + body.at("error").value("message", std::string());
      } catch (const json::exception&) {
        // Keep the plain message.
      }
    }
  } catch (const std::exception& ex) {
    result.error = ex.what();
  }
  return result;
}

}  // namespace comfydist::master
