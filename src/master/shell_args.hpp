// Splitting a worker's extra_args like a POSIX shell would (quotes, backslashes) without ever
// running one, and refusing shell metacharacters so nobody is surprised that `;` or `$(…)` do
// nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace comfydist::master {

// Throws std::invalid_argument naming the problem: an unclosed quote, or a metacharacter
// (; | & < > ` $ ( ) { } [ ] * ! ?) anywhere in the text.
std::vector<std::string> split_shell_args(std::string_view text);

}  // namespace comfydist::master
