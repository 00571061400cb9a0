// ComfyUI's save path and counter rules, confined to the output folder.
#include "nodes/image/save_path.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <system_error>
#include <vector>

#include "common/safe_path.hpp"
#include "engine/node_error.hpp"

namespace comfydist::nodes {
namespace {

namespace fs = std::filesystem;

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

std::string two_digits(int value) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%02d", value);
  return buffer;
}

std::string python_dirname(const std::string& path) {
  const auto slash = path.rfind('/');
  std::string head = slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
  if (!head.empty() && head.find_first_not_of('/') != std::string::npos) {
    head.erase(head.find_last_not_of('/') + 1);
  }
  return head;
}

std::string python_basename(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Byte offset of the `count`-th UTF-8 code point (Python slices strings by code point).
std::size_t code_point_offset(const std::string& text, std::size_t count) {
  std::size_t i = 0;
  while (i < text.size() && count > 0) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) {
      ++i;
    }
    --count;
  }
  return i;
}

std::size_t code_point_count(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// Python's int(text) for ASCII text, 0 where it would raise.
std::int64_t python_int_or_zero(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\n\r\v\f");
  if (first == std::string::npos) {
    return 0;
  }
  const auto last = text.find_last_not_of(" \t\n\r\v\f");
  std::string digits = text.substr(first, last - first + 1);
  bool negative = false;
  if (digits[0] == '+' || digits[0] == '-') {
    negative = digits[0] == '-';
    digits.erase(0, 1);
  }
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  std::int64_t value = 0;
  for (const char c : digits) {
    // Saturate: a counter past 10^17 is no realistic output folder.
    value = std::min<std::int64_t>(value * 10 + (c - '0'), std::int64_t{1} << 60);
  }
  return negative ? -value : value;
}

[[noreturn]] void outside_output() {
  throw engine::node_error("Exception", "Saving image outside the output folder is not allowed.");
}

}  // namespace

std::string python_normpath(const std::string& path) {
  if (path.empty()) {
    return ".";
  }
  std::size_t initial_slashes = path[0] == '/' ? 1 : 0;
  if (path.rfind("//", 0) == 0 && path.rfind("///", 0) != 0) {
    initial_slashes = 2;
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    const std::string part = path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") {
      continue;
    }
    if (part != ".." || (initial_slashes == 0 && parts.empty()) ||
        (!parts.empty() && parts.back() == "..")) {
      parts.push_back(part);
    } else if (!parts.empty()) {
      parts.pop_back();
    }
  }
  std::string out(initial_slashes, '/');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    out += (i == 0 ? "" : "/") + parts[i];
  }
  return out.empty() ? "." : out;
}

std::string substitute_save_variables(std::string prefix, int width, int height,
                                      const std::tm& now) {
  if (prefix.find('%') == std::string::npos) {
    return prefix;
  }
  replace_all(prefix, "%width%", std::to_string(width));
  replace_all(prefix, "%height%", std::to_string(height));
  replace_all(prefix, "%year%", std::to_string(now.tm_year + 1900));
  replace_all(prefix, "%month%", two_digits(now.tm_mon + 1));
  replace_all(prefix, "%day%", two_digits(now.tm_mday));
  replace_all(prefix, "%hour%", two_digits(now.tm_hour));
  replace_all(prefix, "%minute%", two_digits(now.tm_min));
  replace_all(prefix, "%second%", two_digits(now.tm_sec));
  return prefix;
}

save_path get_save_image_path(const std::string& raw_prefix, const fs::path& output_dir, int width,
                              int height) {
  if (raw_prefix.find('\0') != std::string::npos) {
    throw engine::node_error("ValueError", "embedded null byte in filename_prefix");
  }
  const std::time_t seconds = std::time(nullptr);
  std::tm now{};
  localtime_r(&seconds, &now);
  const std::string prefix = substitute_save_variables(raw_prefix, width, height, now);
  const std::string normalised = python_normpath(prefix);

  save_path out;
  out.subfolder = python_dirname(normalised);
  out.filename = python_basename(normalised);
  if (out.subfolder == ".." || out.subfolder.rfind("../", 0) == 0 ||
      (!out.subfolder.empty() && out.subfolder[0] == '/')) {
    outside_output();
  }
  // Lexically inside; a symlinked subfolder must not lead out either.
  const std::optional<fs::path> folder = confine_path(output_dir, out.subfolder);
  if (!folder) {
    outside_output();
  }
  out.folder = *folder;

  std::error_code ec;
  if (!fs::exists(out.folder, ec)) {
    fs::create_directories(out.folder);
    return out;
  }
  const std::size_t prefix_len = code_point_count(python_basename(prefix));
  std::optional<std::int64_t> highest;
  for (const auto& entry : fs::directory_iterator(out.folder)) {
    const std::string name = entry.path().filename().string();
    const std::size_t head_end = code_point_offset(name, prefix_len + 1);
    const std::string head = name.substr(0, head_end);
    if (head.empty() || head.back() != '_' || head.substr(0, head.size() - 1) != out.filename) {
      continue;
    }
    // v0.26: the number ends at the first '.', then at the first '_'.
    std::string rest = name.substr(head_end);
    rest = rest.substr(0, rest.find('.'));
    rest = rest.substr(0, rest.find('_'));
    const std::int64_t digits = python_int_or_zero(rest);
    highest = highest ? std::max(*highest, digits) : digits;
  }
  out.counter = highest ? *highest + 1 : 1;
  return out;
}

}  // namespace comfydist::nodes
