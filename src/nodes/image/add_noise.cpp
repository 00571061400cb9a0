// ImageAddNoise: clip(image + strength·N(0, 1), 0, 1) with noise from a seeded generator.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

// The description says why the noise differs from ComfyUI's for the same seed.
constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "image": [
        "IMAGE",
        {}
      ],
      "seed": [
        "INT",
        {
          "tooltip": "The random seed used for creating the noise.",
          "default": 0,
          "min": 0,
          "max": 18446744073709551615,
          "control_after_generate": true
        }
      ],
      "strength": [
        "FLOAT",
        {
          "default": 0.5,
          "min": 0.0,
          "max": 1.0,
          "step": 0.01
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "image",
      "seed",
      "strength"
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
    "IMAGE"
  ],
  "output_tooltips": [
    null
  ],
  "output_matchtypes": null,
  "name": "ImageAddNoise",
  "display_name": "Add Noise to Image",
  "description": "Noise comes from comfydist's own generator (mt19937_64 with Box-Muller): deterministic for a given seed, but not bit-identical to the noise that PyTorch's generator gives in ComfyUI.",
  "python_module": "comfy_extras.nodes_images",
  "category": "image/filters",
  "output_node": false,
  "deprecated": false,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": [
    "film grain"
  ],
  "essentials_category": null,
  "has_intermediate_output": false
})json";

// Box-Muller on mt19937_64 rather than std::normal_distribution, whose algorithm differs between
// standard libraries: the same seed gives the same image on every build.
class normal_source {
 public:
  explicit normal_source(std::uint64_t seed) : engine_(seed) {}

  float next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // Uniforms in (0, 1]: 53 random bits, shifted off zero so the logarithm stays finite.
    const double u1 = (static_cast<double>(engine_() >> 11) + 1.0) * 0x1.0p-53;
    const double u2 = static_cast<double>(engine_() >> 11) * 0x1.0p-53;
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    spare_ = static_cast<float>(radius * std::sin(angle));
    has_spare_ = true;
    return static_cast<float>(radius * std::cos(angle));
  }

 private:
  std::mt19937_64 engine_;
  float spare_ = 0.0F;
  bool has_spare_ = false;
};

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const engine::image_ptr image = inputs.get_image("image");
  // Seeds up to 2^64-1 arrive as the int64 bit pattern.
  normal_source noise(static_cast<std::uint64_t>(inputs.get_int("seed")));
  const auto strength = static_cast<float>(inputs.get_float("strength"));
  auto out = allocate_image(image->batch, image->height, image->width, image->channels);
  const std::size_t per_image = image->image_elements();
  for (int b = 0; b < image->batch; ++b) {
    context.check_interrupt();
    const float* src = image->image(b);
    float* dst = out->image(b);
    for (std::size_t i = 0; i < per_image; ++i) {
      dst[i] = std::clamp(src[i] + strength * noise.next(), 0.0F, 1.0F);
    }
  }
  return single_output(engine::image_ptr(std::move(out)));
}

}  // namespace

engine::node_definition image_add_noise_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
