// Parser for multipart/form-data request bodies (RFC 7578), as sent by browsers and curl -F.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace comfydist::net {

struct multipart_part {
  std::string name;                     // the form field name
  std::optional<std::string> filename;  // present for file parts (may be empty)
  std::string content_type;             // the part's Content-Type, or "" if none
  std::string data;
};

// Parses `body` using the boundary from `content_type` ("multipart/form-data; boundary=...").
// Throws comfydist::api_error(400, "invalid_multipart", ...) on a missing boundary or a malformed
// body; at most `max_parts` parts are accepted.
std::vector<multipart_part> parse_multipart(std::string_view content_type, std::string_view body,
                                            std::size_t max_parts = 64);

}  // namespace comfydist::net
