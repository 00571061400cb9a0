// PNG encoding throughput at compress level 4 on a 2048×2048 RGB image. Writes the raw image so
// that bench/png_pillow.py can encode the very same pixels with Pillow for the ratio.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "bench_image.hpp"
#include "image/codecs.hpp"

int main(int argc, char** argv) {
  const int size = 2048;
  const int rounds = argc > 2 ? std::stoi(argv[2]) : 5;
  comfydist::image::pixel_image img;
  img.width = size;
  img.height = size;
  img.channels = 3;
  img.pixels = comfydist::bench::make_bench_image(size, size);
  if (argc > 1) {
    std::ofstream(argv[1], std::ios::binary)
        .write(reinterpret_cast<const char*>(img.pixels.data()),
               static_cast<std::streamsize>(img.pixels.size()));
  }
  double best = 1e9;
  std::size_t bytes = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const std::string png = comfydist::image::encode_png(img, 4);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, s);
    bytes = png.size();
  }
  const double mb = static_cast<double>(img.pixels.size()) / 1e6;
  std::printf(
      "{\"encoder\": \"comfydist\", \"seconds\": %.4f, \"mb_per_s\": %.2f, \"png_bytes\": %zu}\n",
      best, mb / best, bytes);
  return 0;
}
