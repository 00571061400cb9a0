// IMAGE and MASK values as ComfyUI defines them: float32 batches, IMAGE B×H×W×C in [0, 1],
// MASK B×H×W.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <vector>

namespace comfydist::engine {

struct image_tensor {
  int batch = 0;
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<float> data;  // batch-major, then row-major H×W, C interleaved

  image_tensor() = default;
  image_tensor(int b, int h, int w, int c, float fill = 0.0F)
      : batch(b), height(h), width(w), channels(c), data(element_count(b, h, w, c), fill) {}

  static std::size_t element_count(int b, int h, int w, int c) {
    if (b < 0 || h < 0 || w < 0 || c < 0) {
      throw std::invalid_argument("negative tensor dimension");
    }
    return static_cast<std::size_t>(b) * static_cast<std::size_t>(h) * static_cast<std::size_t>(w) *
           static_cast<std::size_t>(c);
  }
  std::size_t image_elements() const {
    return static_cast<std::size_t>(height) * static_cast<std::size_t>(width) *
           static_cast<std::size_t>(channels);
  }
  float* image(int index) {
    return data.data() + image_elements() * static_cast<std::size_t>(index);
  }
  const float* image(int index) const {
    return data.data() + image_elements() * static_cast<std::size_t>(index);
  }
  std::size_t byte_size() const { return data.size() * sizeof(float); }
};

struct mask_tensor {
  int batch = 0;
  int height = 0;
  int width = 0;
  std::vector<float> data;

  mask_tensor() = default;
  mask_tensor(int b, int h, int w, float fill = 0.0F)
      : batch(b), height(h), width(w), data(image_tensor::element_count(b, h, w, 1), fill) {}
  std::size_t byte_size() const { return data.size() * sizeof(float); }
};

using image_ptr = std::shared_ptr<const image_tensor>;
using mask_ptr = std::shared_ptr<const mask_tensor>;

}  // namespace comfydist::engine
