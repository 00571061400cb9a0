// A float32 NCHW tensor in host memory: what goes into and comes out of a network.
#pragma once

#include <cstddef>
#include <vector>

namespace comfydist::nn {

struct tensor_shape {
  int n = 1;
  int c = 0;
  int h = 0;
  int w = 0;

  std::size_t elements() const {
    return static_cast<std::size_t>(n) * static_cast<std::size_t>(c) * static_cast<std::size_t>(h) *
           static_cast<std::size_t>(w);
  }
  bool operator==(const tensor_shape&) const = default;
};

struct host_tensor {
  tensor_shape shape;
  std::vector<float> data;  // NCHW, shape.elements() values

  host_tensor() = default;
  explicit host_tensor(tensor_shape s, float fill = 0.0F) : shape(s), data(s.elements(), fill) {}
};

}  // namespace comfydist::nn
