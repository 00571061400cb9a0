// Percent-decoding of request paths and query strings.
#include "net/url_codec.hpp"

#include <optional>

namespace comfydist::net {

namespace {

std::optional<int> hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return std::nullopt;
}

}  // namespace

std::string percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const auto hi = hex_value(text[i + 1]);
      const auto lo = hex_value(text[i + 2]);
      if (hi && lo) {
        out.push_back(static_cast<char>(*hi * 16 + *lo));
        i += 2;
        continue;
      }
    }
    if (c == '+' && plus_as_space) {
      out.push_back(' ');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (piece.empty()) {
      continue;
    }
    const auto eq = piece.find('=');
    std::string key = percent_decode(piece.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string{} : percent_decode(piece.substr(eq + 1), true);
    out.try_emplace(std::move(key), std::move(value));
  }
  return out;
}

std::vector<std::string> split_path(std::string_view raw_path) {
  if (!raw_path.empty() && raw_path.front() == '/') {
    raw_path.remove_prefix(1);
  }
  std::vector<std::string> segments;
  for (;;) {
    const auto slash = raw_path.find('/');
    segments.push_back(percent_decode(raw_path.substr(0, slash), false));
    if (slash == std::string_view::npos) {
      break;
    }
    raw_path.remove_prefix(slash + 1);
  }
  return segments;
}

}  // namespace comfydist::net
