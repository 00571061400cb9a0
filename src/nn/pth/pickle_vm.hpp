// A pickle interpreter that only builds data: the opcodes torch.save emits for a state dict, with
// a whitelist of globals (OrderedDict, the tensor rebuild functions, storage types). It never
// imports or calls anything; every other global is refused before anything happens.
#pragma once

#include <string>
#include <string_view>

#include "nn/pth/pickle_value.hpp"

namespace comfydist::nn::pth {

// Throws std::invalid_argument: for a non-whitelisted global, "refusing to load '<file>': the
// pickle asks for <module>.<name>, which is not part of a plain state dict; nothing was
// executed"; for malformed or over-limit pickles, a message naming the byte offset.
pickle_result run_pickle(std::string_view data, const std::string& file_name);

}  // namespace comfydist::nn::pth
