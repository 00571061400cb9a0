// Named float tensors as read from a checkpoint (.safetensors or .pth), before an architecture is
// recognised in them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace comfydist::nn {

struct named_tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;  // converted to float32 from the stored dtype (f32, f16, bf16, f64)
};

using state_dict = std::map<std::string, named_tensor>;

}  // namespace comfydist::nn
