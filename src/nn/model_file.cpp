// load_model_file: picks the reader by content (zip, pickle, safetensors header) and then by
// extension, and turns the weights into a graph. TF.js models (model.json) have their own loader.
#include "nn/model_file.hpp"

#include <array>
#include <fstream>
#include <stdexcept>
#include <string>

#include "nn/esrgan/upscale_architecture.hpp"
#include "nn/pth/pth_reader.hpp"
#include "nn/safetensors/safetensors_reader.hpp"

namespace comfydist::nn {

// Declared by the TF.js loader (nn/tfjs/tfjs_loader.hpp); repeated here so this file does not
// depend on that header's other contents.
std::shared_ptr<const graph> load_tfjs_model(const std::filesystem::path& model_json);

namespace {

enum class file_kind { tfjs, safetensors, pth, unknown };

std::string lower_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return ext;
}

file_kind sniff(const std::filesystem::path& path) {
  const std::string ext = lower_extension(path);
  if (ext == ".json") {
    return file_kind::tfjs;
  }
  std::ifstream file(path, std::ios::binary);
  std::array<char, 9> head{};
  file.read(head.data(), head.size());
  const auto got = file.gcount();
  if (got >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
    return file_kind::pth;
  }
  if (got >= 2 && static_cast<unsigned char>(head[0]) == 0x80) {
    return file_kind::pth;  // a legacy pickle: the pth reader explains why it is refused
  }
  if (got == 9 && head[8] == '{') {
    return file_kind::safetensors;
  }
  if (ext == ".safetensors" || ext == ".sft") {
    return file_kind::safetensors;
  }
  if (ext == ".pth" || ext == ".pt" || ext == ".ckpt" || ext == ".bin") {
    return file_kind::pth;
  }
  return file_kind::unknown;
}

}  // namespace

std::shared_ptr<const graph> load_model_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw std::invalid_argument("model file '" + path.filename().string() + "' not found");
  }
  std::shared_ptr<const graph> network;
  switch (sniff(path)) {
    case file_kind::tfjs:
      network = load_tfjs_model(path);
      break;
    case file_kind::safetensors:
      network = build_upscale_graph(read_safetensors(path));
      break;
    case file_kind::pth:
      network = build_upscale_graph(read_pth(path));
      break;
    case file_kind::unknown:
      throw std::invalid_argument("'" + path.filename().string() +
                                  "' is not a model file this loader knows; expected "
                                  ".safetensors, .sft, .pth, .pt, .ckpt, .bin or a TF.js "
                                  "model.json");
  }
  validate_graph(*network);
  return network;
}

}  // namespace comfydist::nn
