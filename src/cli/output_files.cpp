// Never-overwriting writes of downloaded job outputs.
#include "cli/output_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/safe_path.hpp"

namespace comfydist::cli {

bool is_safe_output_name(std::string_view name) {
  return is_plain_file_name(name) && name.find("..") == std::string_view::npos;
}

std::string numbered_name(const std::string& name, int n) {
  if (n == 0) {
    return name;
  }
  const auto dot = name.rfind('.');
  const std::string suffix = "-" + std::to_string(n);
  if (dot == std::string::npos || dot == 0) {
    return name + suffix;
  }
  return name.substr(0, dot) + suffix + name.substr(dot);
}

std::filesystem::path save_new_file(const std::filesystem::path& dir, const std::string& name,
                                    std::string_view bytes) {
  if (!is_safe_output_name(name)) {
    throw std::runtime_error("refused the file name '" + name + "' from the master");
  }
  // O_EXCL instead of an exists() check: two runs saving into one folder must not race.
  constexpr int kMaxNumber = 100000;
  for (int n = 0; n < kMaxNumber; ++n) {
    std::filesystem::path path = dir / numbered_name(name, n);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) {
        continue;
      }
      throw std::runtime_error("cannot create '" + path.string() + "': " + std::strerror(errno));
    }
    std::size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t n_written = ::write(fd, bytes.data() + written, bytes.size() - written);
      if (n_written < 0 && errno == EINTR) {
        continue;
      }
      if (n_written <= 0) {
        const std::string reason = std::strerror(errno);
        ::close(fd);
        ::unlink(path.c_str());
        throw std::runtime_error("cannot write '" + path.string() + "': " + reason);
      }
      written += static_cast<std::size_t>(n_written);
    }
    if (::close(fd) != 0) {
      const std::string reason = std::strerror(errno);
      ::unlink(path.c_str());
      throw std::runtime_error("cannot write '" + path.string() + "': " + reason);
    }
    return path;
  }
  throw std::runtime_error("no free name for '" + name + "' in '" + dir.string() + "'");
}

}  // namespace comfydist::cli
