// Percent-decoding of request paths and query strings (internal to src/net).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace comfydist::net {

// Decodes %XX escapes; a malformed escape is kept literally. With `plus_as_space`, '+' becomes ' '
// (form encoding, used in query strings only).
std::string percent_decode(std::string_view text, bool plus_as_space);

// "a=1&b=x%20y&a=2" -> {a: "1", b: "x y"}: keys and values decoded, the first value of a repeated
// key wins, a key without '=' gets "".
std::map<std::string, std::string> parse_query(std::string_view query);

// "/history/a%20b" -> {"history", "a b"}; "/" -> {""}. Splits the raw path before decoding, so an
// encoded '/' stays inside its segment.
std::vector<std::string> split_path(std::string_view raw_path);

}  // namespace comfydist::net
