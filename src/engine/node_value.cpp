// Size accounting and descriptions of node values.
#include "engine/node_value.hpp"

#include <sstream>

namespace comfydist::engine {

std::size_t value_byte_size(const node_value& value) {
  if (const auto* img = std::get_if<image_ptr>(&value); img != nullptr && *img) {
    return (*img)->byte_size();
  }
  if (const auto* mask = std::get_if<mask_ptr>(&value); mask != nullptr && *mask) {
    return (*mask)->byte_size();
  }
  if (const auto* s = std::get_if<std::string>(&value)) {
    return s->size();
  }
  if (const auto* o = std::get_if<std::shared_ptr<const opaque_value>>(&value);
      o != nullptr && *o) {
    return (*o)->byte_size;
  }
  return sizeof(node_value);
}

std::string describe_value(const node_value& value) {
  std::ostringstream out;
  if (const auto* img = std::get_if<image_ptr>(&value); img != nullptr && *img) {
    out << "tensor([" << (*img)->batch << ", " << (*img)->height << ", " << (*img)->width << ", "
        << (*img)->channels << "], dtype=torch.float32)";
  } else if (const auto* mask = std::get_if<mask_ptr>(&value); mask != nullptr && *mask) {
    out << "tensor([" << (*mask)->batch << ", " << (*mask)->height << ", " << (*mask)->width
        << "], dtype=torch.float32)";
  } else if (const auto* o = std::get_if<std::shared_ptr<const opaque_value>>(&value);
             o != nullptr && *o) {
    out << "<" << (*o)->type << ">";
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    out << *s;
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    out << *i;
  } else if (const auto* d = std::get_if<double>(&value)) {
    out << *d;
  } else if (const auto* b = std::get_if<bool>(&value)) {
    out << (*b ? "True" : "False");
  } else {
    out << "None";
  }
  return out.str();
}

}  // namespace comfydist::engine
