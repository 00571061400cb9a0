// Scans the npm install folder of the @upscalerjs model packages.
#include "nn/bundled_models.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

namespace comfydist::nn {
namespace {

namespace fs = std::filesystem;

// Upscale factor of a model.json found directly in models/ (default-model): the product of its
// UpSampling2D sizes and PixelShuffle factors. 0 when unreadable.
int scan_scale(const fs::path& model_json) {
  try {
    std::ifstream in(model_json);
    const nlohmann::json doc = nlohmann::json::parse(in);
    const nlohmann::json& layers =
        doc.at("modelTopology").at("model_config").at("config").at("layers");
    int scale = 1;
    for (const auto& l : layers) {
      const std::string type = l.value("class_name", std::string());
      if (type == "UpSampling2D") {
        const auto& size = l.at("config").at("size");
        scale *= size.is_array() ? size.at(0).get<int>() : size.get<int>();
      } else if (type.rfind("PixelShuffle", 0) == 0 && type.size() > 13) {
        scale *= std::stoi(type.substr(12));
      }
    }
    return scale;
  } catch (const std::exception&) {
    return 0;
  }
}

fs::path package_folder(const fs::path& root) {
  std::error_code ec;
  for (const fs::path& candidate :
       {root / "node_modules" / "@upscalerjs", root / "@upscalerjs", root}) {
    if (fs::is_directory(candidate, ec) && candidate.filename() == "@upscalerjs") {
      return candidate;
    }
  }
  return {};
}

}  // namespace

std::vector<bundled_model> find_bundled_models(const fs::path& root) {
  std::vector<bundled_model> found;
  const fs::path packages = package_folder(root);
  if (packages.empty()) {
    return found;
  }
  std::error_code ec;
  for (const auto& pkg : fs::directory_iterator(packages, ec)) {
    const fs::path models = pkg.path() / "models";
    if (!fs::is_directory(models, ec)) {
      continue;
    }
    const std::string package = pkg.path().filename().string();
    if (fs::is_regular_file(models / "model.json", ec)) {
      const int scale = scan_scale(models / "model.json");
      if (scale > 0) {
        found.push_back(
            {package + "-x" + std::to_string(scale), package, scale, models / "model.json"});
      }
    }
    for (const auto& sub : fs::directory_iterator(models, ec)) {
      const std::string dir = sub.path().filename().string();
      const fs::path json = sub.path() / "model.json";
      if (dir.size() < 2 || dir[0] != 'x' ||
          dir.find_first_not_of("0123456789", 1) != std::string::npos || dir.size() > 3 ||
          !fs::is_regular_file(json, ec)) {
        continue;
      }
      const int scale = std::stoi(dir.substr(1));
      std::string name = package;
      name.append("-").append(dir);
      found.push_back({std::move(name), package, scale, json});
    }
  }
  std::sort(found.begin(), found.end(),
            [](const bundled_model& a, const bundled_model& b) { return a.name < b.name; });
  return found;
}

}  // namespace comfydist::nn
