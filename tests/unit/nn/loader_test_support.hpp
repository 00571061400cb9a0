// Helpers for the checkpoint-loader tests: fixture paths and files, and a slow, obviously correct
// graph evaluator so the loaders' graphs can be checked against PyTorch without a backend.
#pragma once

#include <filesystem>
#include <string>

#include "nn/graph.hpp"
#include "nn/host_tensor.hpp"

namespace comfydist::nn::loader_test {

std::filesystem::path fixture(const std::string& name);
// A little-endian float32 file with its JSON shape sidecar (<stem>.f32 + <stem>.json).
host_tensor read_f32_fixture(const std::string& stem);
// Runs the graph node by node with naive loops.
host_tensor naive_run(const graph& g, const host_tensor& input);
float max_abs_diff(const host_tensor& a, const host_tensor& b);

}  // namespace comfydist::nn::loader_test
