// The whitelist of globals a PyTorch state-dict pickle may name, and what the safe pickle machine
// does in their place: REDUCE on OrderedDict and the tensor rebuild functions, BINPERSID for
// storages. Nothing is imported or called.
#pragma once

#include <cstddef>
#include <string>

#include "nn/pth/pickle_value.hpp"

namespace comfydist::nn::pth {

// Throws the refusal message unless module.name is on the whitelist.
void check_global(const std::string& module, const std::string& name, const std::string& file);

// The object REDUCE produces for `callable(*args)`.
std::size_t reduce(pickle_result& result, std::size_t callable, std::size_t args,
                   const std::string& file);

// A storage reference for torch's persistent id ('storage', type, key, location, numel).
std::size_t persistent_load(pickle_result& result, std::size_t pid, const std::string& file);

}  // namespace comfydist::nn::pth
