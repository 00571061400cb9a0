// shlex-style splitting with metacharacter refusal.
#include "master/shell_args.hpp"

#include <stdexcept>

namespace comfydist::master {

std::vector<std::string> split_shell_args(std::string_view text) {
  constexpr std::string_view kMeta = ";|&<>`$(){}[]*!?";
  for (const char c : text) {
    if (kMeta.find(c) != std::string_view::npos) {
      throw std::invalid_argument(std::string("shell metacharacter '") + c +
                                  "' is not allowed in extra_args: they are passed to the "
                                  "worker as plain arguments, never through a shell");
    }
    if (c == '\n' || c == '\r' || c == '\0') {
      throw std::invalid_argument("extra_args must be one line of text");
    }
  }
  std::vector<std::string> args;
  std::string current;
  bool in_token = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        current += c;
      }
      continue;
    }
    if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
        current += text[++i];
      } else {
        current += c;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_token = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      current += text[++i];
      in_token = true;
    } else if (c == ' ' || c == '\t') {
      if (in_token) {
        args.push_back(current);
        current.clear();
        in_token = false;
      }
    } else {
      current += c;
      in_token = true;
    }
  }
  if (quote != 0) {
    throw std::invalid_argument("extra_args has an unclosed quote");
  }
  if (in_token) {
    args.push_back(current);
  }
  return args;
}

}  // namespace comfydist::master
