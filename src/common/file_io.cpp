// File helpers with errors that name the path.
#include "common/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/uuid.hpp"

namespace comfydist {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open '" + path.string() + "': " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes,
                       file_durability durability) {
  std::string tmp_name = ".";
  tmp_name.append(path.filename().string()).append(".").append(make_uuid4_hex()).append(".tmp");
  const auto tmp = path.parent_path() / tmp_name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("cannot create '" + tmp.string() + "': " + std::strerror(errno));
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write '" + tmp.string() + "': " + why);
    }
    written += static_cast<std::size_t>(n);
  }
  if ((durability == file_durability::synced && ::fsync(fd) != 0) || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot flush '" + tmp.string() + "': " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot rename onto '" + path.string() + "': " + why);
  }
}

}  // namespace comfydist
