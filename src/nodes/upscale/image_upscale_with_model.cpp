// ImageUpscaleWithModel: ComfyUI's tiled model upscaling (tiles of 512 with overlap 32, halved
// down to 128 when memory runs out), with progress per tile and interrupts between tiles.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <new>
#include <string>

#include "nodes/limits.hpp"
#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"
#include "nodes/upscale/tiled_scale.hpp"
#include "nodes/upscale/upscale_model.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view info = R"json({
  "input": {
    "required": {
      "upscale_model": [
        "UPSCALE_MODEL",
        {}
      ],
      "image": [
        "IMAGE",
        {}
      ]
    }
  },
  "input_order": {
    "required": [
      "upscale_model",
      "image"
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
  "name": "ImageUpscaleWithModel",
  "display_name": "Upscale Image (using Model)",
  "description": "",
  "python_module": "comfy_extras.nodes_upscale_model",
  "category": "image/upscaling",
  "output_node": false,
  "deprecated": false,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": [
    "upscale",
    "upscaler",
    "upsc",
    "enlarge image",
    "super resolution",
    "hires",
    "superres",
    "increase resolution"
  ],
  "essentials_category": null,
  "has_intermediate_output": false
})json";

constexpr int start_tile = 512;
constexpr int min_tile = 128;
constexpr int overlap = 32;

std::string mib(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// A tile whose estimated working memory exceeds the limit counts as out of memory, so the tile is
// halved before anything is allocated.
class tile_memory_error : public std::bad_alloc {
 public:
  tile_memory_error(int height, int width, std::size_t need, std::size_t limit)
      : message_("upscaling a " + std::to_string(width) + "x" + std::to_string(height) +
                 " tile needs about " + mib(need) + " of working memory, more than the " +
                 mib(limit) + " this worker allows (half of the available memory)") {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// Image b of an IMAGE batch as a 1×C×H×W tensor.
nn::host_tensor to_planar(const engine::image_tensor& image, int b) {
  nn::host_tensor out(nn::tensor_shape{1, image.channels, image.height, image.width});
  const float* src = image.image(b);
  const std::size_t plane = static_cast<std::size_t>(image.height) * image.width;
  for (std::size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < image.channels; ++c) {
      out.data[c * plane + p] = src[p * image.channels + c];
    }
  }
  return out;
}

// clamp(s.movedim(-3, -1), 0, 1) into image b of the output batch.
void store_interleaved(const nn::host_tensor& planar, engine::image_tensor& out, int b) {
  float* dst = out.image(b);
  const std::size_t plane = static_cast<std::size_t>(out.height) * out.width;
  for (std::size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < out.channels; ++c) {
      dst[p * out.channels + c] = std::clamp(planar.data[c * plane + p], 0.0F, 1.0F);
    }
  }
}

engine::node_result execute(const engine::node_inputs& inputs, engine::node_context& context) {
  const auto model = upscale_model_from(*inputs.get_opaque("upscale_model"));
  const engine::image_ptr image = inputs.get_image("image");
  const nn::graph& graph = *model->graph;
  // ComfyUI hands all channels to the model, and PyTorch refuses a count the first convolution
  // was not built for; say so before any work.
  if (image->channels != graph.input_channels) {
    throw engine::node_error("RuntimeError",
                             "the upscale model '" + model->name + "' expects images with " +
                                 std::to_string(graph.input_channels) + " channels, but got " +
                                 std::to_string(image->channels) + " channels instead" +
                                 (image->channels == 4 ? " (remove the alpha channel first)" : ""));
  }
  const int out_h = scaled_size(image->height, graph.scale);
  const int out_w = scaled_size(image->width, graph.scale);
  auto output = allocate_image(image->batch, out_h, out_w, graph.output_channels);

  const std::size_t limit = network_memory_limit();
  const float multiplier = graph.input_multiplier;
  const float divisor = graph.output_divisor;
  // spandrel's ImageModelDescriptor clamps every model output to 0..1, so tiles are blended
  // clamped.
  std::size_t peak_tile_bytes = 0;
  int used_tile = start_tile;
  const tile_function run_tile = [&](const nn::host_tensor& tile) {
    const std::size_t need = model->network->estimate_peak_bytes(tile.shape.h, tile.shape.w);
    if (need > limit) {
      throw tile_memory_error(tile.shape.h, tile.shape.w, need, limit);
    }
    nn::host_tensor input = tile;
    for (float& v : input.data) {
      v *= multiplier;
    }
    nn::host_tensor result = model->network->run(input);
    peak_tile_bytes = std::max(peak_tile_bytes, model->network->last_peak_bytes());
    for (float& v : result.data) {
      v = std::clamp(v / divisor, 0.0F, 1.0F);
    }
    return result;
  };

  const std::lock_guard<std::mutex> lock(model->run_mutex);
  try {
    run_with_tile_fallback(start_tile, min_tile, [&](int tile) {
      used_tile = tile;
      // A new ProgressBar for every tile size, as in ComfyUI.
      const std::int64_t total =
          image->batch * tiled_scale_steps(image->width, image->height, tile, tile, overlap);
      std::int64_t done = 0;
      tiled_scale_options options;
      options.tile_x = tile;
      options.tile_y = tile;
      options.overlap = overlap;
      options.upscale_amount = graph.scale;
      options.out_channels = graph.output_channels;
      options.on_tile = [&] { context.progress(++done, total); };
      for (int b = 0; b < image->batch; ++b) {
        store_interleaved(tiled_scale(to_planar(*image, b), run_tile, options), *output, b);
      }
    });
  } catch (const tile_memory_error& ex) {
    throw engine::node_error("MemoryError", std::string(ex.what()) + "; even " +
                                                std::to_string(min_tile) + "x" +
                                                std::to_string(min_tile) + " tiles do not fit");
  } catch (const std::bad_alloc&) {
    throw engine::node_error(
        "MemoryError", "out of memory upscaling a " + std::to_string(image->width) + "x" +
                           std::to_string(image->height) + " image, even with " +
                           std::to_string(min_tile) + "x" + std::to_string(min_tile) + " tiles");
  }
  // The working memory of one tile is what bounds the node's memory beyond its input and output.
  spdlog::info(
      "prompt={} node={} event=upscaled model={} size={}x{} scale={} tile={} "
      "peak_tile_bytes={}",
      context.prompt_id(), context.node_id(), model->name, image->width, image->height, graph.scale,
      used_tile, peak_tile_bytes);
  return single_output(engine::image_ptr(std::move(output)));
}

}  // namespace

engine::node_definition image_upscale_with_model_node() {
  return make_definition(info, execute);
}

}  // namespace comfydist::nodes
