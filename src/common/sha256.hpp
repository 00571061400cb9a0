// SHA-256 digests as lowercase hex (upload de-duplication, LoadImage change detection).
#pragma once

#include <string>
#include <string_view>

namespace comfydist {

std::string sha256_hex(std::string_view bytes);

}  // namespace comfydist
