// The JSON error reply {"error": {"type", "message"}} used for every error the server produces
// (internal to src/net).
#pragma once

#include <string_view>

#include "net/http_types.hpp"

namespace comfydist::net {

http_response error_response(int status, std::string_view type, std::string_view message);

}  // namespace comfydist::net
