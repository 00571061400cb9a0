// Fixture loading for the image unit tests.
#pragma once

#include <string>

#include "common/file_io.hpp"

namespace comfydist::image::test {

inline std::string fixture(const std::string& name) {
  return comfydist::read_file(std::string(COMFYDIST_SOURCE_DIR) + "/tests/fixtures/image/" + name);
}

}  // namespace comfydist::image::test
