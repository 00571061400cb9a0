// Pixel shuffle on NCHW: each output row gathers from s input planes.
#include "nn/onednn/host_ops.hpp"

#include <cstddef>

namespace comfydist::nn::onednn {

void pixel_shuffle_nchw(const float* src, float* dst, int n, int out_channels, int h, int w, int s,
                        shuffle_order order) {
  const auto plane = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
  const auto out_w = static_cast<std::size_t>(w) * static_cast<std::size_t>(s);
  const int in_channels = out_channels * s * s;
  for (int b = 0; b < n; ++b) {
    const float* in_batch = src + static_cast<std::size_t>(b) * in_channels * plane;
    for (int c = 0; c < out_channels; ++c) {
      for (int y = 0; y < h; ++y) {
        for (int i = 0; i < s; ++i) {
          float* row = dst;
          dst += out_w;
          for (int j = 0; j < s; ++j) {
            const int ic =
                order == shuffle_order::crd ? (c * s + i) * s + j : (i * s + j) * out_channels + c;
            const float* in_row = in_batch + static_cast<std::size_t>(ic) * plane +
                                  static_cast<std::size_t>(y) * static_cast<std::size_t>(w);
            for (int x = 0; x < w; ++x) {
              row[static_cast<std::size_t>(x) * static_cast<std::size_t>(s) +
                  static_cast<std::size_t>(j)] = in_row[x];
            }
          }
        }
      }
    }
  }
}

}  // namespace comfydist::nn::onednn
