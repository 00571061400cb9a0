// Planning of single, load-balanced and fan-out jobs.
#include "master/job_planner.hpp"

#include <cmath>
#include <functional>
#include <set>

#include "common/api_error.hpp"
#include "master/prompt_graph.hpp"

namespace comfydist::master {
namespace {

// The literal a DistributedValue gives unit `index` (its per-unit entry "index+1", else the
// default), coerced to the declared _type.
json distributed_value(const json& inputs, int index) {
  json default_value = inputs.value("default_value", json(""));
  json per_unit = json::object();
  if (inputs.contains("worker_values")) {
    const json& raw = inputs["worker_values"];
    if (raw.is_object()) {
      per_unit = raw;
    } else if (raw.is_string() && !raw.get<std::string>().empty()) {
      try {
        per_unit = json::parse(raw.get<std::string>());
      } catch (const json::parse_error&) {
        throw api_error(400, "invalid_distributed_value",
                        "DistributedValue.worker_values is not valid JSON");
      }
    }
  }
  const std::string key = std::to_string(index + 1);
  json value = per_unit.is_object() && per_unit.contains(key) ? per_unit[key] : default_value;
  const std::string type =
      per_unit.is_object() ? per_unit.value("_type", std::string("STRING")) : std::string("STRING");
  try {
    if (type == "INT") {
      return static_cast<std::int64_t>(std::trunc(
          value.is_string() ? std::stod(value.get<std::string>()) : value.get<double>()));
    }
    if (type == "FLOAT") {
      return value.is_string() ? std::stod(value.get<std::string>()) : value.get<double>();
    }
  } catch (const std::exception&) {
    throw api_error(400, "invalid_distributed_value",
                    "DistributedValue: '" + value.dump() + "' is not a " + type);
  }
  return value;
}

// Replaces every link to node `source` with the literal `value`.
void inline_literal(json& prompt, const std::string& source, const json& value) {
  for (auto& [id, node] : prompt.items()) {
    if (!node.is_object() || !node.contains("inputs") || !node["inputs"].is_object()) {
      continue;
    }
    for (auto& [name, input] : node["inputs"].items()) {
      if (is_link(input) && input[0] == source) {
        input = value;
      }
    }
  }
}

// A unit: distributed nodes resolved for `index`, collectors replaced, cut to `keep`.
unit_plan make_unit(const json& prompt, int index, const std::set<std::string>& keep,
                    const std::vector<std::string>& collectors) {
  unit_plan unit;
  unit.index = index;
  json p = json::object();
  for (const auto& [id, node] : prompt.items()) {
    if (keep.empty() || keep.count(id) > 0) {
      p[id] = node;
    }
  }
  std::vector<std::string> resolved;
  for (auto& [id, node] : p.items()) {
    const std::string type = class_of(node);
    const json inputs = node.value("inputs", json::object());
    if (type == "DistributedSeed") {
      const json seed = inputs.value("seed", json(0));
      if (!seed.is_number_integer()) {
        throw api_error(400, "invalid_distributed_seed",
                        "DistributedSeed '" + id + "' needs a literal integer seed");
      }
      inline_literal(p, id, seed.get<std::int64_t>() + index);
      resolved.push_back(id);
    } else if (type == "DistributedValue") {
      inline_literal(p, id, distributed_value(inputs, index));
      resolved.push_back(id);
    }
  }
  for (const auto& id : resolved) {
    p.erase(id);
  }
  for (const auto& id : collectors) {
    if (!p.contains(id)) {
      continue;
    }
    json preview = json::object();
    preview["class_type"] = "PreviewImage";
    json inputs = json::object();
    inputs["images"] = p[id]["inputs"]["images"];
    preview["inputs"] = inputs;
    p[id] = preview;
    unit.collected_outputs.push_back(id);
  }
  unit.prompt = std::move(p);
  return unit;
}

}  // namespace

std::string to_string(distribution_mode mode) {
  switch (mode) {
    case distribution_mode::single:
      return "single";
    case distribution_mode::load_balanced:
      return "load_balanced";
    case distribution_mode::fan_out:
      return "fan_out";
    case distribution_mode::tiles:
      return "tiles";
  }
  return "single";
}

job_plan plan_job(const json& prompt, const plan_options& options) {
  if (!prompt.is_object()) {
    throw api_error(400, "invalid_prompt", "the prompt must be an object of nodes");
  }
  job_plan plan;
  bool has_seed = false;
  bool load_balance = false;
  for (const auto& [id, node] : prompt.items()) {
    const std::string type = class_of(node);
    if (type == "DistributedCollector") {
      const json inputs = node.value("inputs", json::object());
      if (!inputs.contains("images") || !is_link(inputs["images"])) {
        throw api_error(400, "collector_without_images",
                        "DistributedCollector '" + id + "' has no images input linked");
      }
      const json lb = inputs.value("load_balance", json(false));
      load_balance = load_balance || (lb.is_boolean() && lb.get<bool>());
      plan.collector_ids.push_back(id);
    } else if (type == "DistributedSeed") {
      has_seed = true;
    }
  }

  if (load_balance || (!has_seed && plan.collector_ids.empty())) {
    plan.mode = load_balance ? distribution_mode::load_balanced : distribution_mode::single;
    // Collectors on one participant just pass their images through: a PreviewImage-free rewrite
    // keeps downstream nodes working, so inline nothing and let the unit run whole.
    unit_plan unit = make_unit(prompt, 0, {}, {});
    for (const auto& id : plan.collector_ids) {
      // The collector is a pass-through here: link its consumers straight to its images source.
      const json source = prompt[id]["inputs"]["images"];
      inline_literal(unit.prompt, id, source);
      unit.prompt.erase(id);
    }
    plan.units.push_back(std::move(unit));
    return plan;
  }

  plan.mode = distribution_mode::fan_out;
  const int count = options.count.value_or(std::max(1, options.enabled_workers));
  if (count < 1 || count > options.max_count) {
    throw api_error(400, "invalid_count",
                    "count must be between 1 and " + std::to_string(options.max_count) + ", got " +
                        std::to_string(count));
  }
  // Units run what is upstream of the collectors; without a collector (seeds only) the whole
  // workflow, once per unit.
  std::set<std::string> keep;
  if (!plan.collector_ids.empty()) {
    keep = ancestors_of(prompt, plan.collector_ids);
  }
  for (int j = 0; j < count; ++j) {
    plan.units.push_back(make_unit(prompt, j, keep, plan.collector_ids));
  }
  if (!plan.collector_ids.empty()) {
    // The master runs the collectors and everything that depends on them, plus whatever those
    // nodes need that is not upstream of a collector.
    const std::set<std::string> downstream = descendants_of(
        prompt, std::set<std::string>(plan.collector_ids.begin(), plan.collector_ids.end()));
    // A collector's images come from the units, so the walk stops there.
    const std::set<std::string> collectors(plan.collector_ids.begin(), plan.collector_ids.end());
    const std::vector<std::string> roots(downstream.begin(), downstream.end());
    const std::set<std::string> needed = ancestors_of(prompt, roots, collectors);
    for (const auto& [id, node] : prompt.items()) {
      if (needed.count(id) > 0) {
        plan.master_prompt[id] = node;
      }
    }
  }
  return plan;
}

}  // namespace comfydist::master
