// Zip parsing for .pth files. torch.save (miniz) stores every record uncompressed and switches to
// zip64 fields for large archives; anything else is refused rather than half-supported.
#include "nn/pth/zip_reader.hpp"

#include <algorithm>
#include <stdexcept>

namespace comfydist::nn::pth {

namespace {

constexpr std::uint32_t local_header_signature = 0x04034b50;
constexpr std::uint32_t central_header_signature = 0x02014b50;
constexpr std::uint32_t end_signature = 0x06054b50;
constexpr std::uint32_t zip64_locator_signature = 0x07064b50;
constexpr std::uint32_t zip64_end_signature = 0x06064b50;
constexpr std::uint64_t end_record_size = 22;
constexpr std::uint64_t max_comment = 0xFFFF;
constexpr std::uint64_t max_entries = 1'000'000;

std::uint64_t le(const std::string& bytes, std::size_t at, int width) {
  std::uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  }
  return value;
}

}  // namespace

zip_reader::zip_reader(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  file_size_ = std::filesystem::file_size(path, ec);
  if (ec) {
    fail(ec.message());
  }
  file_.open(path, std::ios::binary);
  if (!file_) {
    fail("cannot open it");
  }
  read_directory();
}

void zip_reader::fail(const std::string& why) const {
  throw std::invalid_argument("cannot read '" + path_.filename().string() +
                              "' as a zip archive: " + why);
}

std::string zip_reader::read_at(std::uint64_t offset, std::uint64_t size) {
  if (offset > file_size_ || size > file_size_ - offset) {
    fail("a record at byte " + std::to_string(offset) +
         " runs past the end of the file (truncated?)");
  }
  std::string bytes(size, '\0');
  file_.clear();
  file_.seekg(static_cast<std::streamoff>(offset));
  file_.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(file_.gcount()) != size) {
    file_.clear();
    fail("unexpected end of file");
  }
  return bytes;
}

void zip_reader::read_directory() {
  if (file_size_ < end_record_size) {
    fail("the file is too short (truncated?)");
  }
  // The end record sits in the last 22 bytes plus at most a 64 KiB comment.
  const std::uint64_t tail_size = std::min(file_size_, end_record_size + max_comment);
  const std::string tail = read_at(file_size_ - tail_size, tail_size);
  std::size_t end_at = std::string::npos;
  for (std::size_t i = tail.size() - end_record_size + 1; i-- > 0;) {
    if (le(tail, i, 4) == end_signature) {
      end_at = i;
      break;
    }
  }
  if (end_at == std::string::npos) {
    fail("no end-of-central-directory record (truncated or not a zip file)");
  }
  std::uint64_t count = le(tail, end_at + 10, 2);
  std::uint64_t directory_size = le(tail, end_at + 12, 4);
  std::uint64_t directory_offset = le(tail, end_at + 16, 4);
  const std::uint64_t end_offset = file_size_ - tail_size + end_at;
  if (count == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {
    if (end_offset < 20) {
      fail("zip64 locator missing");
    }
    const std::string locator = read_at(end_offset - 20, 20);
    if (le(locator, 0, 4) != zip64_locator_signature) {
      fail("zip64 locator missing");
    }
    const std::string record = read_at(le(locator, 8, 8), 56);
    if (le(record, 0, 4) != zip64_end_signature) {
      fail("bad zip64 end-of-central-directory record");
    }
    count = le(record, 32, 8);
    directory_size = le(record, 40, 8);
    directory_offset = le(record, 48, 8);
  }
  if (count > max_entries) {
    fail("too many entries (" + std::to_string(count) + ")");
  }
  const std::string directory = read_at(directory_offset, directory_size);
  std::size_t at = 0;
  entries_.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    if (directory.size() - at < 46 || le(directory, at, 4) != central_header_signature) {
      fail("corrupt central directory");
    }
    const std::uint64_t method = le(directory, at + 10, 2);
    std::uint64_t compressed = le(directory, at + 20, 4);
    std::uint64_t size = le(directory, at + 24, 4);
    const std::size_t name_length = le(directory, at + 28, 2);
    const std::size_t extra_length = le(directory, at + 30, 2);
    const std::size_t comment_length = le(directory, at + 32, 2);
    std::uint64_t local_offset = le(directory, at + 42, 4);
    if (directory.size() - at - 46 < name_length + extra_length + comment_length) {
      fail("corrupt central directory");
    }
    zip_entry entry;
    entry.name = directory.substr(at + 46, name_length);
    // zip64 extra field: 64-bit values for exactly the fields that hold 0xFFFFFFFF, in order.
    for (std::size_t e = at + 46 + name_length; e + 4 <= at + 46 + name_length + extra_length;) {
      const std::uint64_t id = le(directory, e, 2);
      const std::size_t length = le(directory, e + 2, 2);
      const std::size_t field_end = e + 4 + length;
      if (field_end > at + 46 + name_length + extra_length) {
        fail("corrupt extra field in entry '" + entry.name + "'");
      }
      if (id == 0x0001) {
        std::size_t v = e + 4;
        for (std::uint64_t* field : {&size, &compressed, &local_offset}) {
          if (*field == 0xFFFFFFFF) {
            if (v + 8 > field_end) {
              fail("corrupt zip64 field in entry '" + entry.name + "'");
            }
            *field = le(directory, v, 8);
            v += 8;
          }
        }
      }
      e = field_end;
    }
    if (method != 0 || compressed != size) {
      fail("entry '" + entry.name +
           "' is compressed; only the uncompressed archives torch.save writes are supported");
    }
    const std::string local = read_at(local_offset, 30);
    if (le(local, 0, 4) != local_header_signature) {
      fail("bad local header for entry '" + entry.name + "'");
    }
    entry.data_offset = local_offset + 30 + le(local, 26, 2) + le(local, 28, 2);
    entry.size = size;
    if (entry.data_offset > file_size_ || entry.size > file_size_ - entry.data_offset) {
      fail("entry '" + entry.name + "' runs past the end of the file (truncated?)");
    }
    index_.emplace(entry.name, entries_.size());
    entries_.push_back(std::move(entry));
    at += 46 + name_length + extra_length + comment_length;
  }
}

const zip_entry* zip_reader::find(const std::string& name) const {
  const auto found = index_.find(name);
  return found == index_.end() ? nullptr : &entries_[found->second];
}

std::string zip_reader::read(const zip_entry& entry, std::uint64_t limit) {
  if (entry.size > limit) {
    fail("entry '" + entry.name + "' is larger than the " + std::to_string(limit) + "-byte limit");
  }
  return read_at(entry.data_offset, entry.size);
}

}  // namespace comfydist::nn::pth
