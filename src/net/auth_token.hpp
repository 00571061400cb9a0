// Bearer-token authentication shared by the master and native workers (--auth-token-file):
// `Authorization: Bearer <token>` or the session cookie the panel sets after login.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "net/http_types.hpp"

namespace comfydist::net {

inline constexpr std::string_view kSessionCookie = "comfydist_session";

// The token from a file (first line, surrounding whitespace removed). Throws std::runtime_error
// when the file cannot be read or the token is shorter than 16 characters.
std::string read_auth_token(const std::filesystem::path& file);

// Compares in constant time.
bool request_authorized(const http_request& request, std::string_view token);

// A Set-Cookie value for a logged-in browser session.
std::string session_cookie(std::string_view token);

}  // namespace comfydist::net
