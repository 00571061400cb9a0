// Native upscaling benchmark (issue 5): network throughput (megapixels of input per second and
// GFLOP/s) of the CPU backend, the machine's measured FMA peak, and the memory of a full
// ImageUpscaleWithModel run with its tiling. One JSON line per measurement.
//
//   bench_upscale throughput MODEL LABEL THREADS SIZES ITERATIONS   (SIZES: e.g. 256,512)
//   bench_upscale node MODEL LABEL THREADS SIZE                     (the node, tiles of 512)
//   bench_upscale peak-flops CORES SECONDS
#include <immintrin.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "engine/node_definition.hpp"
#include "engine/node_registry.hpp"
#include "nn/backend.hpp"
#include "nn/model_file.hpp"
#include "nodes/builtin_nodes.hpp"
#include "nodes/upscale/upscale_model.hpp"

namespace cd = comfydist;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double max_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Smooth gradients with mild noise, values 0..1, as bench/upscale_torch.py makes them.
float bench_value(int c, int y, int x, int size, std::uint32_t& state) {
  state = state * 1664525U + 1013904223U;
  const float noise = static_cast<float>(state >> 8) / 16777216.0F * 0.05F;
  const float base = c == 0   ? static_cast<float>(x) / size
                     : c == 1 ? static_cast<float>(y) / size
                              : static_cast<float>(x + y) / (2.0F * size);
  return std::min(1.0F, base + noise);
}

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> sizes;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    sizes.push_back(std::stoi(item));
  }
  return sizes;
}

int throughput(const std::string& path, const std::string& label, int threads,
               const std::string& sizes, int iterations) {
  const auto graph = cd::nn::load_model_file(path);
  auto backend = cd::nn::make_cpu_backend(threads);
  auto network = backend->compile(graph);
  const double macs = graph->macs_per_input_pixel();
  for (const int size : parse_sizes(sizes)) {
    cd::nn::host_tensor input(cd::nn::tensor_shape{1, graph->input_channels, size, size});
    std::uint32_t state = 1;
    for (int c = 0; c < graph->input_channels; ++c) {
      for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
          input.data[(static_cast<std::size_t>(c) * size + y) * size + x] =
              bench_value(c, y, x, size, state) * graph->input_multiplier;
        }
      }
    }
    // The first run of a size also creates that size's primitives; it is reported apart.
    double first = 0;
    double best = 1e30;
    for (int i = 0; i < iterations; ++i) {
      const auto start = std::chrono::steady_clock::now();
      const cd::nn::host_tensor out = network->run(input);
      (i == 0 ? first : best) = std::min(i == 0 ? 1e30 : best, seconds_since(start));
    }
    if (iterations == 1) {
      best = first;
    }
    const double pixels = static_cast<double>(size) * size;
    std::printf(
        "{\"side\": \"comfydist\", \"backend\": \"%s\", \"model\": \"%s\", \"architecture\": "
        "\"%s\", \"size\": %d, \"threads\": %d, \"first_seconds\": %.3f, \"seconds\": %.3f, "
        "\"megapixels_per_s\": %.5f, "
        "\"gflop\": %.1f, \"gflop_per_s\": %.1f, \"peak_mib\": %.1f, \"estimate_mib\": %.1f, "
        "\"weights_mib\": %.1f}\n",
        backend->name().c_str(), label.c_str(), graph->architecture.c_str(), size, threads, first,
        best, pixels / 1e6 / best, macs * 2 * pixels / 1e9, macs * 2 * pixels / 1e9 / best,
        static_cast<double>(network->last_peak_bytes()) / (1 << 20),
        static_cast<double>(network->estimate_peak_bytes(size, size)) / (1 << 20),
        static_cast<double>(network->weight_bytes()) / (1 << 20));
    std::fflush(stdout);
  }
  return 0;
}

// What the executor gives a node, reduced to progress reporting; it samples the network's peak
// after every tile.
class bench_context : public cd::engine::node_context {
 public:
  cd::engine::node_environment env;
  std::string id = "1";
  cd::json empty;
  const cd::nn::compiled_network* network = nullptr;
  std::size_t max_peak = 0;
  std::int64_t tiles = 0;

  const cd::engine::node_environment& environment() const override { return env; }
  const std::string& node_id() const override { return id; }
  const std::string& prompt_id() const override { return id; }
  const cd::json& prompt() const override { return empty; }
  const cd::json& extra_pnginfo() const override { return empty; }
  void progress(std::int64_t value, std::int64_t) override {
    tiles = value;
    max_peak = std::max(max_peak, network->last_peak_bytes());
  }
  void check_interrupt() override {}
};

int node_run(const std::string& path, const std::string& label, int threads, int size) {
  const double rss_start = max_rss_mib();
  auto model = std::make_shared<cd::nodes::upscale_model>();
  model->name = label;
  model->graph = cd::nn::load_model_file(path);
  model->backend = cd::nn::make_cpu_backend(threads);
  model->network = model->backend->compile(model->graph);
  const double rss_loaded = max_rss_mib();
  auto image = std::make_shared<cd::engine::image_tensor>(1, size, size, 3);
  std::uint32_t state = 1;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      for (int c = 0; c < 3; ++c) {
        image->data[(static_cast<std::size_t>(y) * size + x) * 3 + c] =
            bench_value(c, y, x, size, state);
      }
    }
  }
  cd::engine::node_registry registry;
  cd::nodes::register_builtin_nodes(registry);
  bench_context context;
  context.env.threads = threads;
  context.network = model->network.get();
  cd::engine::node_inputs inputs;
  inputs.values = {{"upscale_model", cd::nodes::make_upscale_model_value(model)},
                   {"image", cd::engine::image_ptr(image)}};
  const auto start = std::chrono::steady_clock::now();
  const cd::engine::node_result result =
      registry.find("ImageUpscaleWithModel")->create()->execute(inputs, context);
  const double seconds = seconds_since(start);
  const auto& out = *std::get<cd::engine::image_ptr>(result.outputs.at(0));
  std::printf(
      "{\"side\": \"comfydist\", \"measure\": \"ImageUpscaleWithModel\", \"model\": \"%s\", "
      "\"size\": %d, \"output\": \"%dx%d\", \"threads\": %d, \"tiles\": %lld, \"seconds\": %.2f, "
      "\"tile_peak_mib\": %.1f, \"output_mib\": %.1f, \"rss_start_mib\": %.1f, "
      "\"rss_after_load_mib\": %.1f, \"max_rss_mib\": %.1f}\n",
      label.c_str(), size, out.width, out.height, threads, static_cast<long long>(context.tiles),
      seconds, static_cast<double>(context.max_peak) / (1 << 20),
      static_cast<double>(out.byte_size()) / (1 << 20), rss_start, rss_loaded, max_rss_mib());
  return 0;
}

// Independent FMA chains on 256-bit vectors keep both FMA pipes busy: the practical FP32 peak.
__attribute__((target("avx2,fma"))) double fma_loop(long rounds) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) {
    acc[i] = _mm256_set1_ps(static_cast<float>(i) * 1e-3F);
  }
  const __m256 a = _mm256_set1_ps(0.999999F);
  const __m256 b = _mm256_set1_ps(1e-7F);
  for (long r = 0; r < rounds; ++r) {
    for (int i = 0; i < 12; ++i) {
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
  }
  float sum = 0;
  for (int i = 0; i < 12; ++i) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, acc[i]);
    for (const float v : lanes) {
      sum += v;
    }
  }
  return sum;
}

// The same with 512-bit vectors: CPUs with full-width AVX-512 units (Intel server parts, AMD Zen 5)
// double their peak with it; Zen 4 splits them into two 256-bit halves.
__attribute__((target("avx512f"))) double fma_loop_512(long rounds) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) {
    acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3F);
  }
  const __m512 a = _mm512_set1_ps(0.999999F);
  const __m512 b = _mm512_set1_ps(1e-7F);
  for (long r = 0; r < rounds; ++r) {
    for (int i = 0; i < 12; ++i) {
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
  }
  float sum = 0;
  for (int i = 0; i < 12; ++i) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, acc[i]);
    for (const float v : lanes) {
      sum += v;
    }
  }
  return sum;
}

// One core's FMA rate, best of repeated windows (a quiet window is found even while other jobs
// run); the machine's peak is that times the cores, as the cores are alike and FMA units are
// per core.
int peak_flops(int cores, double seconds) {
  const long rounds = 20'000'000;
  const bool avx512 = __builtin_cpu_supports("avx512f");
  double sink = 0;
  for (const int width : {8, 16}) {
    if (width == 16 && !avx512) {
      continue;
    }
    double best = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto start = std::chrono::steady_clock::now();
      sink += width == 8 ? fma_loop(rounds) : fma_loop_512(rounds);
      const double flops = static_cast<double>(rounds) * 12 * width * 2;
      best = std::max(best, flops / seconds_since(start) / 1e9);
    }
    std::printf(
        "{\"measure\": \"fma_peak\", \"vector_bits\": %d, \"one_core_gflop_per_s\": %.1f, "
        "\"cores\": %d, \"peak_gflop_per_s\": %.1f, \"sink\": %g}\n",
        width * 32, best, cores, best * cores, sink);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 6 && args[0] == "throughput") {
      return throughput(args[1], args[2], std::stoi(args[3]), args[4], std::stoi(args[5]));
    }
    if (args.size() == 5 && args[0] == "node") {
      return node_run(args[1], args[2], std::stoi(args[3]), std::stoi(args[4]));
    }
    if (args.size() == 3 && args[0] == "peak-flops") {
      return peak_flops(std::stoi(args[1]), std::stod(args[2]));
    }
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "bench_upscale: %s\n", ex.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: bench_upscale throughput MODEL LABEL THREADS SIZES ITERATIONS\n"
               "       bench_upscale node MODEL LABEL THREADS SIZE\n"
               "       bench_upscale peak-flops CORES SECONDS\n");
  return 2;
}
