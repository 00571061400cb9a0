// Token checks without timing leaks.
#include "net/auth_token.hpp"

#include <fstream>
#include <stdexcept>

namespace comfydist::net {
namespace {

bool same(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

}  // namespace

std::string read_auth_token(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    throw std::runtime_error("cannot read the auth token file '" + file.string() + "'");
  }
  std::string token;
  std::getline(in, token);
  const auto first = token.find_first_not_of(" \t\r\n");
  const auto last = token.find_last_not_of(" \t\r\n");
  token = first == std::string::npos ? "" : token.substr(first, last - first + 1);
  if (token.size() < 16) {
    throw std::runtime_error("the auth token in '" + file.string() +
                             "' is shorter than 16 characters");
  }
  return token;
}

bool request_authorized(const http_request& request, std::string_view token) {
  if (const auto header = request.header("authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (header->size() > kBearer.size() && header->compare(0, kBearer.size(), kBearer) == 0 &&
        same(std::string_view(*header).substr(kBearer.size()), token)) {
      return true;
    }
  }
  if (const auto cookies = request.header("cookie")) {
    std::string_view rest = *cookies;
    while (!rest.empty()) {
      const auto semicolon = rest.find(';');
      std::string_view part = rest.substr(0, semicolon);
      rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
      while (!part.empty() && part.front() == ' ') {
        part.remove_prefix(1);
      }
      const auto eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == kSessionCookie &&
          same(part.substr(eq + 1), token)) {
        return true;
      }
    }
  }
  return false;
}

std::string session_cookie(std::string_view token) {
  return std::string(kSessionCookie) + "=" + std::string(token) +
         "; Path=/; HttpOnly; SameSite=Strict";
}

}  // namespace comfydist::net
