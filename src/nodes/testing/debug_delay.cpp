// DebugDelay: passes its images through after a sleep, so that benchmarks and tests can make a
// unit take a known time without a GPU model. The sleep is cut into steps of at most 50 ms with a
// progress report (and interrupt check) after each, so an interrupt stops it within one step.
// `silent` drops the reports (not the interrupt checks): the master's stall detection is tested
// with it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "nodes/node_helpers.hpp"
#include "nodes/testing/testing_catalog.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "images": [
        "IMAGE"
      ],
      "milliseconds": [
        "INT",
        {
          "default": 1000,
          "min": 0,
          "max": 600000
        }
      ],
      "seed": [
        "INT",
        {
          "default": 0,
          "min": 0,
          "max": 1125899906842624
        }
      ]
    },
    "optional": {
      "silent": [
        "BOOLEAN",
        {
          "default": false,
          "tooltip": "Sleep without progress reports: a worker that has stalled."
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "images",
      "milliseconds",
      "seed"
    ],
    "optional": [
      "silent"
    ]
  },
  "is_input_list": false,
  "output": [
    "IMAGE"
  ],
  "output_is_list": [
    false
  ],
  "output_name": [
    "images"
  ],
  "name": "DebugDelay",
  "display_name": "Debug Delay",
  "description": "Waits milliseconds (times the worker's --debug-delay-scale), then passes the images on. The seed only makes otherwise equal units differ.",
  "python_module": "comfydist",
  "category": "testing",
  "output_node": false,
  "has_intermediate_output": false
})json";

constexpr double kStepMilliseconds = 50.0;
// Beyond the schema's 600000 ms at the largest scale (100): a guard against a hand-built
// environment, not a limit users meet.
constexpr double kMaxTotalMilliseconds = 600000.0 * 100.0;

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const engine::image_ptr images = inputs.get_image("images");
  const double scale = context.environment().debug_delay_scale;
  const double total = static_cast<double>(inputs.get_int("milliseconds")) * scale;
  if (!(total >= 0.0) || total > kMaxTotalMilliseconds) {
    throw engine::node_error("ValueError", "DebugDelay: invalid delay of " + std::to_string(total) +
                                               " ms (milliseconds " +
                                               std::to_string(inputs.get_int("milliseconds")) +
                                               " × scale " + std::to_string(scale) + ")");
  }
  const bool silent = inputs.has("silent") && inputs.get_bool("silent");
  const auto steps = static_cast<std::int64_t>(std::ceil(total / kStepMilliseconds));
  // Each step sleeps up to a deadline measured from the start, so the total is not stretched
  // by the time the progress reports take.
  using clock = std::chrono::steady_clock;
  const clock::time_point start = clock::now();
  for (std::int64_t step = 1; step <= steps; ++step) {
    const double until = std::min(total, static_cast<double>(step) * kStepMilliseconds);
    std::this_thread::sleep_until(start + std::chrono::duration_cast<clock::duration>(
                                              std::chrono::duration<double, std::milli>(until)));
    if (silent) {
      context.check_interrupt();
    } else {
      context.progress(step, steps);
    }
  }
  return single_output(images);
}

}  // namespace

engine::node_definition debug_delay_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
