// Kernels and the reflect-padded depthwise convolution behind ComfyUI's ImageBlur and
// ImageSharpen (comfy_extras/nodes_post_processing.py).
#pragma once

#include <functional>
#include <vector>

namespace comfydist::image {

// size x size Gaussian on coordinates linspace(-1, 1, size) (sigma is relative to the radius, not
// in pixels), normalised to sum 1. Row-major.
std::vector<float> gaussian_kernel(int size, float sigma);

// ImageSharpen's kernel: gaussian_kernel * -(alpha * 10) with the centre raised so it sums to 1.
std::vector<float> sharpen_kernel(int size, float sigma, float alpha);

// Same-size 2-D convolution of an interleaved H x W x C float image with a size x size kernel
// (odd size), each channel independently, over a 'reflect' border (mirror without repeating the
// edge pixel) as F.pad(..., 'reflect') + conv2d + crop do. Where the radius reaches past the
// opposite edge (torch would refuse) the reflection keeps bouncing between the edges, so no read
// is ever out of bounds. No clamping. `on_rows`, when given, is called after every few output
// rows; it may throw to abandon the work (an interrupted prompt).
std::vector<float> convolve_reflect(const float* src, int height, int width, int channels,
                                    const std::vector<float>& kernel, int kernel_size,
                                    const std::function<void()>& on_rows = {});

}  // namespace comfydist::image
