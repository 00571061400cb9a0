// The JSON error reply {"error": {"type", "message"}}.
#include "net/error_response.hpp"

#include <nlohmann/json.hpp>

namespace comfydist::net {

http_response error_response(int status, std::string_view type, std::string_view message) {
  const nlohmann::json body = {{"error", {{"type", type}, {"message", message}}}};
  // Replace invalid UTF-8 (e.g. from a decoded path) instead of throwing while reporting an error.
  return http_response::json(status,
                             body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace comfydist::net
