// Finding the machine's NVIDIA GPUs for the first start: nvidia-smi's CSV query (NVML would need
// the driver's library at build time; nvidia-smi ships with every driver).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace comfydist::master {

struct gpu_info {
  int index = 0;
  std::string name;
  std::uint64_t memory_total_bytes = 0;
};

// Empty when nvidia-smi is absent, fails or times out (5 s).
std::vector<gpu_info> detect_gpus();

// Parses the output of `nvidia-smi --query-gpu=index,name,memory.total
// --format=csv,noheader,nounits`.
std::vector<gpu_info> parse_nvidia_smi_csv(const std::string& text);

}  // namespace comfydist::master
