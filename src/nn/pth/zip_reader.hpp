// A minimal reader for the uncompressed ("stored") zip archives torch.save writes: the central
// directory (zip64 included) is parsed with bounds checks, and entries are located, not loaded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace comfydist::nn::pth {

struct zip_entry {
  std::string name;
  std::uint64_t data_offset = 0;  // where the entry's bytes start in the file
  std::uint64_t size = 0;
};

class zip_reader {
 public:
  // Throws std::invalid_argument for a truncated or corrupt archive or a compressed entry.
  explicit zip_reader(const std::filesystem::path& path);

  const std::vector<zip_entry>& entries() const { return entries_; }
  // nullptr when absent.
  const zip_entry* find(const std::string& name) const;
  // The whole entry, refusing entries larger than `limit` bytes.
  std::string read(const zip_entry& entry, std::uint64_t limit);
  std::ifstream& stream() { return file_; }
  std::uint64_t file_size() const { return file_size_; }

 private:
  [[noreturn]] void fail(const std::string& why) const;
  std::string read_at(std::uint64_t offset, std::uint64_t size);
  void read_directory();

  std::filesystem::path path_;
  std::ifstream file_;
  std::uint64_t file_size_ = 0;
  std::vector<zip_entry> entries_;
  std::unordered_map<std::string, std::size_t> index_;  // name → position in entries_
};

}  // namespace comfydist::nn::pth
