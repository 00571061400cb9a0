// Resampling of float images with the arithmetic of PyTorch's F.interpolate (nearest-exact,
// bilinear, area, bicubic; align_corners=False, no antialias) and of Pillow's LANCZOS resize
// (on 8-bit data, as ComfyUI does it).
#pragma once

#include <string_view>
#include <vector>

namespace comfydist::image {

enum class resample_method { nearest_exact, bilinear, area, bicubic, lanczos };

// Parses ComfyUI's names: "nearest-exact", "bilinear", "area", "bicubic", "lanczos".
// Throws std::invalid_argument for anything else.
resample_method parse_resample_method(std::string_view name);

// One image, interleaved H×W×C float (values nominally 0..1), to new_height×new_width×C.
// Lanczos converts to uint8 with clip+truncate (255*x), resizes like PIL, and divides by 255.
// Bicubic is not clamped (it may overshoot 0..1, as in PyTorch).
std::vector<float> resample(const float* src, int height, int width, int channels, int new_height,
                            int new_width, resample_method method);

}  // namespace comfydist::image
