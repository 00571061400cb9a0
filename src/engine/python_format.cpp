// Python-compatible str()/repr() of JSON values.
#include "engine/python_format.hpp"

#include <charconv>
#include <cmath>

namespace comfydist::engine {
namespace {

std::string repr_string(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

std::string format(const json& value, bool repr) {
  switch (value.type()) {
    case json::value_t::null:
      return "None";
    case json::value_t::boolean:
      return value.get<bool>() ? "True" : "False";
    case json::value_t::number_integer:
      return std::to_string(value.get<std::int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(value.get<std::uint64_t>());
    case json::value_t::number_float:
      return python_float_str(value.get<double>());
    case json::value_t::string:
      return repr ? repr_string(value.get_ref<const std::string&>()) : value.get<std::string>();
    case json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& item : value) {
        if (!first) {
          out += ", ";
        }
        first = false;
        out += format(item, true);
      }
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) {
          out += ", ";
        }
        first = false;
        out += repr_string(key) + ": " + format(item, true);
      }
      return out + "}";
    }
    default:
      return "None";
  }
}

}  // namespace

std::string python_float_str(double value) {
  if (std::isnan(value)) {
    return "nan";
  }
  if (std::isinf(value)) {
    return value > 0 ? "inf" : "-inf";
  }
  char buffer[64];
  const double magnitude = std::fabs(value);
  // Python uses scientific notation below 1e-4 and from 1e16 on.
  const bool scientific = magnitude != 0.0 && (magnitude < 1e-4 || magnitude >= 1e16);
  const auto result =
      scientific
          ? std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific)
          : std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  std::string out(buffer, result.ptr);
  if (scientific) {
    // to_chars writes "1e+30" / "1.5e-05"; Python writes the same.
    return out;
  }
  if (out.find('.') == std::string::npos) {
    out += ".0";
  }
  return out;
}

std::string python_str(const json& value) {
  return format(value, false);
}

std::string python_repr(const json& value) {
  return format(value, true);
}

}  // namespace comfydist::engine
