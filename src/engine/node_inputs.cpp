// Typed access to a node's resolved inputs.
#include <string>

#include "engine/node_definition.hpp"

namespace comfydist::engine {
namespace {

[[noreturn]] void wrong_kind(const std::string& name, const char* expected) {
  throw node_error("ValueError", "input '" + name + "' is not " + expected);
}

}  // namespace

bool node_inputs::has(const std::string& name) const {
  const auto it = values.find(name);
  return it != values.end() && !std::holds_alternative<std::monostate>(it->second);
}

std::int64_t node_inputs::get_int(const std::string& name) const {
  const auto it = values.find(name);
  if (it != values.end()) {
    if (const auto* i = std::get_if<std::int64_t>(&it->second)) {
      return *i;
    }
    if (const auto* d = std::get_if<double>(&it->second)) {
      return static_cast<std::int64_t>(*d);
    }
    if (const auto* b = std::get_if<bool>(&it->second)) {
      return *b ? 1 : 0;
    }
  }
  wrong_kind(name, "an INT");
}

double node_inputs::get_float(const std::string& name) const {
  const auto it = values.find(name);
  if (it != values.end()) {
    if (const auto* d = std::get_if<double>(&it->second)) {
      return *d;
    }
    if (const auto* i = std::get_if<std::int64_t>(&it->second)) {
      return static_cast<double>(*i);
    }
  }
  wrong_kind(name, "a FLOAT");
}

bool node_inputs::get_bool(const std::string& name) const {
  const auto it = values.find(name);
  if (it != values.end()) {
    if (const auto* b = std::get_if<bool>(&it->second)) {
      return *b;
    }
    if (const auto* i = std::get_if<std::int64_t>(&it->second)) {
      return *i != 0;
    }
  }
  wrong_kind(name, "a BOOLEAN");
}

const std::string& node_inputs::get_string(const std::string& name) const {
  const auto it = values.find(name);
  if (it != values.end()) {
    if (const auto* s = std::get_if<std::string>(&it->second)) {
      return *s;
    }
  }
  wrong_kind(name, "a STRING");
}

image_ptr node_inputs::get_image(const std::string& name) const {
  const auto it = values.find(name);
  if (it != values.end()) {
    if (const auto* p = std::get_if<image_ptr>(&it->second); p != nullptr && *p) {
      return *p;
    }
  }
  wrong_kind(name, "an IMAGE");
}

mask_ptr node_inputs::get_mask(const std::string& name) const {
  const auto it = values.find(name);
  if (it != values.end()) {
    if (const auto* p = std::get_if<mask_ptr>(&it->second); p != nullptr && *p) {
      return *p;
    }
  }
  wrong_kind(name, "a MASK");
}

std::shared_ptr<const opaque_value> node_inputs::get_opaque(const std::string& name) const {
  const auto it = values.find(name);
  if (it != values.end()) {
    if (const auto* p = std::get_if<std::shared_ptr<const opaque_value>>(&it->second);
        p != nullptr && *p) {
      return *p;
    }
  }
  wrong_kind(name, "a model object");
}

}  // namespace comfydist::engine
