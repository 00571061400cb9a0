// The execution of one prompt: cache lookup, ordering, node calls, events and history data.
#include "engine/executor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>

#include "common/clock.hpp"
#include "engine/cache_keys.hpp"
#include "engine/prompt_validator.hpp"

namespace comfydist::engine {

executor::executor(const node_registry& registry, node_environment environment, output_cache& cache,
                   execution_listener& listener)
    : registry_(registry),
      environment_(std::move(environment)),
      cache_(cache),
      listener_(listener) {}

executor::~executor() = default;

void executor::reset() {
  cache_.clear();
  instances_.clear();
}

node_instance& executor::instance_for(const std::string& node_id,
                                      const node_definition& definition) {
  auto& slot = instances_[{node_id, definition.name()}];
  if (!slot) {
    slot = definition.create();
  }
  return *slot;
}

// State of one prompt's execution.
class executor::run : public node_context {
 public:
  run(executor& owner, const queue_item& item)
      : owner_(owner),
        item_(item),
        prompt_(item.prompt),
        extra_pnginfo_(item.extra_data.contains("extra_pnginfo") ? item.extra_data["extra_pnginfo"]
                                                                 : json(nullptr)) {
    if (item.extra_data.contains("client_id") && item.extra_data["client_id"].is_string()) {
      client_id_ = item.extra_data["client_id"].get<std::string>();
    }
  }

  execution_outcome execute() {
    record_and_send("execution_start", base_data());
    keys_ = compute_cache_keys(prompt_, owner_.registry_, owner_.environment_);
    json cached_nodes = json::array();
    for (const auto& [id, node] : prompt_.items()) {
      const auto key = keys_.find(id);
      if (key != keys_.end() && owner_.cache_.contains(key->second)) {
        cached_nodes.push_back(id);
        cached_.insert(id);
      }
    }
    json cached_data = json::object();
    cached_data["nodes"] = cached_nodes;
    cached_data["prompt_id"] = item_.prompt_id;
    record_and_send("execution_cached", cached_data);

    for (const auto& output : item_.outputs) {
      add_node(output);
    }
    while (!pending_.empty()) {
      const std::string id = pick_next();
      if (id.empty()) {
        fail_cycle();
        return finish(false);
      }
      if (!run_node(id)) {
        return finish(false);
      }
      pending_.erase(std::find(pending_.begin(), pending_.end(), id));
      for (const auto& dependent : blocking_[id]) {
        --block_count_[dependent];
      }
    }
    json done = base_data();
    record_and_send("execution_success", done);
    return finish(true);
  }

  // node_context
  const node_environment& environment() const override { return owner_.environment_; }
  const std::string& node_id() const override { return current_node_; }
  const std::string& prompt_id() const override { return item_.prompt_id; }
  const json& prompt() const override {
    return item_.metadata_prompt.is_null() ? prompt_ : item_.metadata_prompt;
  }
  const json& extra_pnginfo() const override { return extra_pnginfo_; }

  void check_interrupt() override {
    if (owner_.interrupted_.load()) {
      throw interrupted_error();
    }
  }

  void progress(std::int64_t value, std::int64_t max) override {
    check_interrupt();
    const auto now = std::chrono::steady_clock::now();
    // ComfyUI v0.26 throttles progress: first and final updates always, others every 100 ms.
    const bool first = !last_progress_;
    const bool final = value >= max;
    if (!first && !final && now - *last_progress_ < std::chrono::milliseconds(100)) {
      return;
    }
    last_progress_ = now;
    json data = json::object();
    data["value"] = value;
    data["max"] = max;
    data["prompt_id"] = item_.prompt_id;
    data["node"] = current_node_;
    send("progress", data, true);
    set_state(current_node_, static_cast<double>(value), static_cast<double>(max), "running");
  }

 private:
  json base_data() const {
    json data = json::object();
    data["prompt_id"] = item_.prompt_id;
    return data;
  }

  void send(const std::string& type, const json& data, bool broadcast_if_no_client) {
    owner_.listener_.on_event(type, data, client_id_, broadcast_if_no_client);
  }

  // Events that ComfyUI records in the history status carry a timestamp.
  void record_and_send(const std::string& type, json data, bool broadcast_if_no_client = false) {
    data["timestamp"] = now_ms();
    messages_.push_back(json::array({type, data}));
    send(type, data, broadcast_if_no_client);
  }

  void set_state(const std::string& id, double value, double max, const char* state) {
    json entry = json::object();
    entry["value"] = value;
    entry["max"] = max;
    entry["state"] = state;
    entry["node_id"] = id;
    entry["prompt_id"] = item_.prompt_id;
    entry["display_node_id"] = id;
    entry["parent_node_id"] = nullptr;
    entry["real_node_id"] = id;
    node_states_[id] = entry;
    json data = json::object();
    data["prompt_id"] = item_.prompt_id;
    data["nodes"] = node_states_;
    send("progress_state", data, true);
  }

  // ComfyUI's ExecutionList.add_node: a depth-first walk over linked inputs that stops at nodes
  // whose output is cached.
  void add_node(const std::string& id) {
    if (std::find(pending_.begin(), pending_.end(), id) != pending_.end()) {
      return;
    }
    pending_.push_back(id);
    block_count_[id] = 0;
    const json& inputs = prompt_[id]["inputs"];
    for (const auto& [name, value] : inputs.items()) {
      if (!is_link(value)) {
        continue;
      }
      const std::string source = value[0].get<std::string>();
      if (cached_.count(source) > 0 || !prompt_.contains(source)) {
        continue;
      }
      add_node(source);
      ++block_count_[id];
      blocking_[source].push_back(id);
    }
  }

  bool is_output(const std::string& id) const {
    const auto* definition = owner_.registry_.find(prompt_[id]["class_type"].get<std::string>());
    return definition != nullptr && definition->output_node();
  }

  // ComfyUI's ux_friendly_pick_node: output nodes first, then nodes that feed one directly, then
  // two levels down, then the first ready node.
  std::string pick_next() const {
    std::vector<std::string> ready;
    for (const auto& id : pending_) {
      if (block_count_.at(id) == 0) {
        ready.push_back(id);
      }
    }
    if (ready.empty()) {
      return {};
    }
    for (const auto& id : ready) {
      if (is_output(id)) {
        return id;
      }
    }
    auto feeds_output = [&](const std::string& id) {
      const auto it = blocking_.find(id);
      if (it == blocking_.end()) {
        return false;
      }
      return std::any_of(it->second.begin(), it->second.end(),
                         [&](const std::string& d) { return is_output(d); });
    };
    for (const auto& id : ready) {
      if (feeds_output(id)) {
        return id;
      }
    }
    for (const auto& id : ready) {
      const auto it = blocking_.find(id);
      if (it != blocking_.end() &&
          std::any_of(it->second.begin(), it->second.end(), feeds_output)) {
        return id;
      }
    }
    return ready.front();
  }

  node_value value_of(const json& link) {
    const std::string source = link[0].get<std::string>();
    const auto slot = static_cast<std::size_t>(link[1].get<double>());
    auto it = results_.find(source);
    if (it == results_.end()) {
      const auto key = keys_.find(source);
      if (key != keys_.end()) {
        if (auto cached = owner_.cache_.find(key->second)) {
          it = results_.emplace(source, std::move(cached)).first;
        }
      }
    }
    if (it == results_.end() || slot >= it->second->outputs.size()) {
      throw node_error("KeyError", "output " + std::to_string(slot) + " of node " + source +
                                       " is not available");
    }
    return it->second->outputs[slot];
  }

  static node_value constant_value(const json& value) {
    if (value.is_boolean()) {
      return value.get<bool>();
    }
    if (value.is_number_unsigned()) {
      // Seeds up to 2^64-1 travel as their bit pattern.
      return static_cast<std::int64_t>(value.get<std::uint64_t>());
    }
    if (value.is_number_integer()) {
      return value.get<std::int64_t>();
    }
    if (value.is_number_float()) {
      return value.get<double>();
    }
    if (value.is_string()) {
      return value.get<std::string>();
    }
    return std::monostate{};
  }

  bool run_node(const std::string& id) {
    current_node_ = id;
    last_progress_.reset();
    const json& node = prompt_[id];
    const std::string class_type = node["class_type"].get<std::string>();
    const node_definition* definition = owner_.registry_.find(class_type);
    const auto key = keys_.find(id);

    if (cached_.count(id) > 0 && key != keys_.end()) {
      if (auto cached = owner_.cache_.find(key->second)) {
        results_[id] = cached;
        // v0.26 re-sends (and records) cached UI only when the prompt has a client.
        if (client_id_ && !cached->ui.is_null() && !cached->ui.empty()) {
          send_executed(id, cached->ui);
        }
        set_state(id, 1, 1, "finished");
        return true;
      }
    }

    set_state(id, 0, 1, "running");
    json executing = json::object();
    executing["node"] = id;
    executing["display_node"] = id;
    executing["prompt_id"] = item_.prompt_id;
    send("executing", executing, false);

    node_inputs inputs;
    try {
      const json& declared = node["inputs"];
      for (const auto& [name, value] : declared.items()) {
        inputs.values[name] = is_link(value) ? value_of(value) : constant_value(value);
      }
      check_interrupt();
      node_result result = owner_.instance_for(id, *definition).execute(inputs, *this);
      auto stored = std::make_shared<cached_output>();
      stored->outputs = std::move(result.outputs);
      stored->ui = std::move(result.ui);
      for (const auto& v : stored->outputs) {
        stored->byte_size += value_byte_size(v);
      }
      if (key != keys_.end()) {
        owner_.cache_.store(key->second, stored);
      }
      results_[id] = stored;
      executed_.push_back(id);
      if (!stored->ui.is_null() && !stored->ui.empty()) {
        send_executed(id, stored->ui);
      }
      set_state(id, 1, 1, "finished");
      return true;
    } catch (const interrupted_error&) {
      json data = base_data();
      data["node_id"] = id;
      data["node_type"] = class_type;
      data["executed"] = executed_;
      record_and_send("execution_interrupted", data, true);
      return false;
    } catch (const node_error& ex) {
      report_error(id, class_type, inputs, ex.exception_type(), ex.what());
      return false;
    } catch (const std::bad_alloc&) {
      report_error(id, class_type, inputs, "MemoryError", "out of memory");
      return false;
    } catch (const std::exception& ex) {
      report_error(id, class_type, inputs, "RuntimeError", ex.what());
      return false;
    }
  }

  void send_executed(const std::string& id, const json& ui) {
    json data = json::object();
    data["node"] = id;
    data["display_node"] = id;
    data["output"] = ui;
    data["prompt_id"] = item_.prompt_id;
    send("executed", data, false);
    outputs_[id] = ui;
    json meta = json::object();
    meta["node_id"] = id;
    meta["display_node"] = id;
    meta["parent_node"] = nullptr;
    meta["real_node_id"] = id;
    meta_[id] = meta;
  }

  void report_error(const std::string& id, const std::string& class_type, const node_inputs& inputs,
                    const std::string& type, const std::string& message) {
    spdlog::warn("prompt={} node={} class={} failed: {}: {}", item_.prompt_id, id, class_type, type,
                 message);
    json current_inputs = json::object();
    for (const auto& [name, value] : inputs.values) {
      json shown;
      if (const auto* i = std::get_if<std::int64_t>(&value)) {
        shown = *i;
      } else if (const auto* d = std::get_if<double>(&value)) {
        shown = *d;
      } else if (const auto* b = std::get_if<bool>(&value)) {
        shown = *b;
      } else if (std::holds_alternative<std::monostate>(value)) {
        shown = nullptr;
      } else {
        shown = describe_value(value);
      }
      current_inputs[name] = json::array({shown});
    }
    json current_outputs = json::array();
    for (const auto& [node_id, result] : results_) {
      current_outputs.push_back(node_id);
    }
    json data = base_data();
    data["node_id"] = id;
    data["node_type"] = class_type;
    data["executed"] = executed_;
    data["exception_message"] = message + "\n";
    data["exception_type"] = type;
    data["traceback"] = json::array();
    data["current_inputs"] = current_inputs;
    data["current_outputs"] = current_outputs;
    record_and_send("execution_error", data);
  }

  void fail_cycle() {
    const std::string id = pending_.front();
    node_inputs none;
    report_error(id, prompt_[id]["class_type"].get<std::string>(), none,
                 "graph.DependencyCycleError", "Dependency cycle detected");
  }

  execution_outcome finish(bool success) {
    execution_outcome outcome;
    outcome.success = success;
    outcome.outputs = outputs_;
    outcome.meta = meta_;
    outcome.messages = messages_;
    return outcome;
  }

  executor& owner_;
  const queue_item& item_;
  json prompt_;  // a copy: IS_CHANGED values are written into it
  json extra_pnginfo_;
  std::optional<std::string> client_id_;
  std::map<std::string, std::string> keys_;
  std::set<std::string> cached_;
  std::vector<std::string> pending_;
  std::map<std::string, int> block_count_;
  std::map<std::string, std::vector<std::string>> blocking_;
  std::map<std::string, std::shared_ptr<const cached_output>> results_;
  json executed_ = json::array();
  json outputs_ = json::object();
  json meta_ = json::object();
  json messages_ = json::array();
  json node_states_ = json::object();
  std::string current_node_;
  std::optional<std::chrono::steady_clock::time_point> last_progress_;
};

execution_outcome executor::execute(const queue_item& item) {
  interrupted_.store(false);
  run state(*this, item);
  return state.execute();
}

}  // namespace comfydist::engine
