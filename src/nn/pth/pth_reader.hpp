// Reading a PyTorch checkpoint (.pth/.pt/.ckpt/.bin in torch.save's zip format) into a state dict
// of float32 tensors, through the safe pickle machine: nothing in the file is executed.
#pragma once

#include <filesystem>

#include "nn/state_dict.hpp"

namespace comfydist::nn {

// Unwraps training-checkpoint wrappers ({"params_ema": ...}, "params-ema", "params", "state_dict",
// "model", "net"; params_ema first) as ComfyUI and spandrel do; entries that are not tensors are
// skipped. Throws std::invalid_argument for legacy (non-zip) files, refused pickles, truncated or
// corrupt archives and tensors whose storage does not fit.
state_dict read_pth(const std::filesystem::path& path);

}  // namespace comfydist::nn
