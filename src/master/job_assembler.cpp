// Running the collectors' downstream nodes on the master.
#include "master/job_assembler.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <string>
#include <vector>

#include "engine/prompt_validator.hpp"

namespace comfydist::master {
namespace {

// SaveImage's zlib level (nodes/image/save_image.cpp).
constexpr int kSaveImageLevel = 4;

// The SaveImage nodes of a tiled job's master prompt when they are all it has besides the blended
// upscale, each saving it directly with a literal prefix; otherwise none. Then the blended PNG
// is copied out as the saved file (DistributedSaveBlended) instead of being decoded into an
// IMAGE and encoded again: the pixels are the same, the memory is not.
std::vector<std::string> direct_saves(const json& prompt, const std::string& upscale) {
  std::vector<std::string> saves;
  for (const auto& [id, node] : prompt.items()) {
    if (id == upscale) {
      continue;
    }
    const json inputs = node.value("inputs", json::object());
    const json prefix = inputs.value("filename_prefix", json("ComfyUI"));
    if (node.value("class_type", std::string()) != "SaveImage" ||
        inputs.value("images", json()) != json::array({upscale, 0}) || !prefix.is_string() ||
        inputs.size() > 2) {
      return {};
    }
    saves.push_back(id);
  }
  return saves;
}

}  // namespace

json gathered_prompt(const assembly_request& request) {
  json prompt = request.master_prompt;
  for (const auto& [collector, files] : request.collected) {
    if (!prompt.contains(collector)) {
      continue;
    }
    json list = json::array();
    for (const auto& f : files) {
      list.push_back(f);
    }
    if (prompt[collector].value("class_type", std::string()) == "DistributedGatheredImages") {
      prompt[collector]["inputs"]["files"] = list.dump();
      continue;
    }
    const std::string source = collector + ".gathered";
    json inputs = json::object();
    inputs["files"] = list.dump();
    json node = json::object();
    node["class_type"] = "DistributedGatheredImages";
    node["inputs"] = inputs;
    prompt[source] = node;
    prompt[collector]["inputs"]["images"] = json::array({source, 0});
  }
  return prompt;
}

job_assembler::job_assembler(const engine::node_registry& registry,
                             engine::node_environment environment,
                             engine::execution_listener& listener)
    : registry_(registry),
      environment_(std::move(environment)),
      cache_(std::size_t{256} << 20),
      executor_(registry_, environment_, cache_, listener),
      thread_([this] { loop(); }) {}

job_assembler::~job_assembler() {
  stop();
}

void job_assembler::submit(assembly_request request, std::function<void(assembly_result)> done) {
  {
    const std::lock_guard lock(mutex_);
    queue_.emplace_back(std::move(request), std::move(done));
  }
  wake_.notify_one();
}

assembly_result job_assembler::run_now(assembly_request request) {
  auto promise = std::make_shared<std::promise<assembly_result>>();
  std::future<assembly_result> future = promise->get_future();
  request.answer_on_stop = true;
  submit(std::move(request),
         [promise](assembly_result result) { promise->set_value(std::move(result)); });
  return future.get();
}

void job_assembler::interrupt(const std::string& job_id) {
  const std::lock_guard lock(mutex_);
  if (running_ == job_id) {
    executor_.interrupt();
    interrupted_ = true;
  }
  std::erase_if(queue_, [&](const auto& entry) { return entry.first.job_id == job_id; });
}

void job_assembler::stop() {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
    interrupted_ = true;
    executor_.interrupt();
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void job_assembler::loop() {
  for (;;) {
    std::pair<assembly_request, std::function<void(assembly_result)>> next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        // Jobs left queued are assembled again by the next start; a caller waiting in run_now
        // gets an answer.
        for (auto& [request, done] : queue_) {
          if (request.answer_on_stop) {
            assembly_result stopped;
            stopped.error = "the master is stopping";
            done(std::move(stopped));
          }
        }
        queue_.clear();
        return;
      }
      next = std::move(queue_.front());
      queue_.pop_front();
      running_ = next.first.job_id;
      interrupted_ = false;
    }
    assembly_result result;
    try {
      result = run(next.first);
    } catch (const std::exception& ex) {
      result.ok = false;
      result.error = ex.what();
    }
    {
      const std::lock_guard lock(mutex_);
      running_.clear();
    }
    next.second(std::move(result));
  }
}

assembly_result job_assembler::run(const assembly_request& request) {
  // Every run starts uncached: a cached output node reports no files, and the master deletes the
  // files of a tiled job's input step once read, so running the same input step twice must run it.
  cache_.clear();
  assembly_result result;
  json prompt;
  if (request.tiles) {
    const std::string upscale = request.tiles->spec.at("node").get<std::string>();
    const std::vector<std::string> saves = direct_saves(request.master_prompt, upscale);
    tile_blend_request blend = *request.tiles;
    if (!saves.empty()) {
      blend.compress_level = kSaveImageLevel;  // the blended file is what gets saved
    }
    const tile_blend_result blended = blend_tiles(blend, [this] {
      if (interrupted_) {
        throw std::runtime_error("interrupted while blending the tiles");
      }
    });
    result.blend_seconds = blended.seconds;
    spdlog::info("event=tiles_blended job={} size={}x{} seconds={:.3f} saved_directly={}",
                 request.job_id, blended.width, blended.height, blended.seconds, !saves.empty());
    if (saves.empty()) {
      assembly_request with_blend = request;
      with_blend.collected[upscale] = {blended.blended};
      prompt = gathered_prompt(with_blend);
    } else {
      prompt = request.master_prompt;
      prompt.erase(upscale);
      for (const auto& id : saves) {
        json inputs = json::object();
        inputs["file"] = blended.blended;
        inputs["filename_prefix"] =
            prompt[id]["inputs"].value("filename_prefix", std::string("ComfyUI"));
        prompt[id]["class_type"] = "DistributedSaveBlended";
        prompt[id]["inputs"] = std::move(inputs);
      }
    }
  } else {
    prompt = gathered_prompt(request);
  }
  const engine::validation_result valid =
      engine::validate_prompt(prompt, std::nullopt, registry_, environment_);
  if (!valid.ok) {
    result.error = "the nodes after the collector cannot run on the master: " +
                   (valid.error ? valid.error->message : std::string("invalid")) + " " +
                   valid.node_errors.dump();
    return result;
  }
  engine::queue_item item;
  item.number = request.number;
  item.prompt_id = request.job_id;
  item.prompt = std::move(prompt);
  item.extra_data = request.extra_data;
  item.metadata_prompt = request.client_prompt;
  item.outputs = valid.outputs;
  const engine::execution_outcome outcome = executor_.execute(item);
  result.ok = outcome.success;
  result.outputs = outcome.outputs;
  result.messages = outcome.messages;
  if (!outcome.success) {
    result.error = "the master's part of the job failed";
    for (const auto& m : outcome.messages) {
      if (m.is_array() && m.size() == 2 && m[0] == "execution_error") {
        result.error = m[1].value("node_type", std::string("?")) + ": " +
                       m[1].value("exception_message", std::string("failed"));
      }
    }
  }
  return result;
}

}  // namespace comfydist::master
