// multipart/form-data parser (RFC 7578 over RFC 2046 framing), as sent by browsers and curl -F.
#include "net/multipart.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "common/api_error.hpp"
#include "net/url_codec.hpp"

namespace comfydist::net {

namespace {

constexpr std::size_t max_boundary_length = 70;  // RFC 2046 §5.1.1
constexpr std::size_t max_part_headers = std::size_t{16} << 10;

[[noreturn]] void fail(const std::string& message) {
  throw api_error(400, "invalid_multipart", message);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Parses `; key=value; key="quoted \" value"` parameters after a header's main value.
std::map<std::string, std::string> parse_parameters(std::string_view text) {
  std::map<std::string, std::string> params;
  std::size_t i = 0;
  const auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
      ++i;
    }
  };
  while (i < text.size()) {
    skip_space();
    if (i < text.size() && text[i] == ';') {
      ++i;
      continue;
    }
    const auto eq = text.find('=', i);
    const auto semi = text.find(';', i);
    if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
      // A parameter without a value: skip it.
      i = semi == std::string_view::npos ? text.size() : semi + 1;
      continue;
    }
    std::string key = lower(trim(text.substr(i, eq - i)));
    i = eq + 1;
    skip_space();
    std::string value;
    if (i < text.size() && text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        const char c = text[i++];
        if (c == '\\' && i < text.size()) {
          value.push_back(text[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value.push_back(c);
        }
      }
      if (!closed) {
        fail("unterminated quoted string in parameter '" + key + "'");
      }
    } else {
      const auto end = text.find(';', i);
      value = std::string(trim(text.substr(i, end == std::string_view::npos ? end : end - i)));
      i = end == std::string_view::npos ? text.size() : end;
    }
    params.try_emplace(std::move(key), std::move(value));
  }
  return params;
}

// RFC 5987 ext-value: charset'language'percent-encoded
std::string decode_ext_value(std::string_view value) {
  const auto first = value.find('\'');
  const auto second = first == std::string_view::npos ? first : value.find('\'', first + 1);
  if (second == std::string_view::npos) {
    return percent_decode(value, false);
  }
  return percent_decode(value.substr(second + 1), false);
}

std::string boundary_from(std::string_view content_type) {
  const auto semi = content_type.find(';');
  const std::string type = lower(trim(content_type.substr(0, semi)));
  if (type.rfind("multipart/", 0) != 0) {
    fail("content type '" + std::string(content_type) + "' is not multipart");
  }
  if (semi == std::string_view::npos) {
    fail("multipart content type has no boundary");
  }
  const auto params = parse_parameters(content_type.substr(semi + 1));
  const auto it = params.find("boundary");
  if (it == params.end() || it->second.empty()) {
    fail("multipart content type has no boundary");
  }
  if (it->second.size() > max_boundary_length) {
    fail("multipart boundary is longer than 70 characters");
  }
  return it->second;
}

multipart_part parse_headers(std::string_view block) {
  multipart_part part;
  bool has_disposition = false;
  while (!block.empty()) {
    const auto eol = block.find("\r\n");
    const auto line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
    if (line.empty()) {
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      fail("malformed part header line");
    }
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      const auto semi = value.find(';');
      if (lower(trim(value.substr(0, semi))) != "form-data") {
        fail("part Content-Disposition is not form-data");
      }
      const auto params = semi == std::string_view::npos ? std::map<std::string, std::string>{}
                                                         : parse_parameters(value.substr(semi + 1));
      const auto field = params.find("name");
      if (field == params.end()) {
        fail("part Content-Disposition has no name");
      }
      part.name = field->second;
      if (const auto ext = params.find("filename*"); ext != params.end()) {
        part.filename = decode_ext_value(ext->second);
      } else if (const auto file = params.find("filename"); file != params.end()) {
        part.filename = file->second;
      }
      has_disposition = true;
    } else if (name == "content-type") {
      part.content_type = std::string(value);
    }
  }
  if (!has_disposition) {
    fail("part has no Content-Disposition header");
  }
  return part;
}

}  // namespace

std::vector<multipart_part> parse_multipart(std::string_view content_type, std::string_view body,
                                            std::size_t max_parts) {
  const std::string boundary = boundary_from(content_type);
  const std::string delimiter = "--" + boundary;
  const std::string inner_delimiter = "\r\n" + delimiter;

  // The first delimiter opens the body or follows a preamble line.
  std::size_t pos = 0;
  if (body.substr(0, delimiter.size()) != delimiter) {
    pos = body.find(inner_delimiter);
    if (pos == std::string_view::npos) {
      fail("multipart body does not contain the boundary");
    }
    pos += 2;
  }
  pos += delimiter.size();

  std::vector<multipart_part> parts;
  for (;;) {
    // After a delimiter: "--" closes the body, otherwise optional padding then CRLF.
    if (body.substr(pos, 2) == "--") {
      return parts;
    }
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) {
      ++pos;
    }
    if (body.substr(pos, 2) != "\r\n") {
      fail("multipart delimiter is not followed by a line break");
    }
    pos += 2;
    if (parts.size() >= max_parts) {
      fail("multipart body has more than " + std::to_string(max_parts) + " parts");
    }

    std::string_view headers;
    if (body.substr(pos, 2) == "\r\n") {
      pos += 2;  // a part with no headers
    } else {
      const auto end = body.find("\r\n\r\n", pos);
      if (end == std::string_view::npos || end - pos > max_part_headers) {
        fail("multipart part headers are not terminated");
      }
      headers = body.substr(pos, end - pos);
      pos = end + 4;
    }
    multipart_part part = parse_headers(headers);

    const auto next = body.find(inner_delimiter, pos);
    if (next == std::string_view::npos) {
      fail("multipart body ends without its closing boundary");
    }
    part.data = std::string(body.substr(pos, next - pos));
    parts.push_back(std::move(part));
    pos = next + inner_delimiter.size();
  }
}

}  // namespace comfydist::net
