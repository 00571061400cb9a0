// Loading and transactional saving of comfydist.json.
#include "master/config_store.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "common/file_io.hpp"
#include "master/config_error.hpp"
#include "master/config_validation.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
namespace {

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%d-%H%M%S", &tm);
  return buffer;
}

std::size_t line_of(const std::string& text, std::size_t byte) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    line += text[i] == '\n' ? 1 : 0;
  }
  return line;
}

}  // namespace

config_store::config_store(fs::path file) : file_(std::move(file)) {}

void config_store::load() {
  const std::lock_guard lock(mutex_);
  std::error_code ec;
  if (!fs::exists(file_, ec)) {
    config_ = cluster_config{};
    return;
  }
  const std::string text = read_file(file_);
  std::string problem;
  try {
    const json document = json::parse(text);
    cluster_config loaded = cluster_config_from_json(document);
    validate_config(loaded);
    config_ = std::move(loaded);
    return;
  } catch (const json::parse_error& e) {
    problem = file_.string() + ":" + std::to_string(line_of(text, e.byte)) + ": not valid JSON (" +
              e.what() + ")";
  } catch (const config_error& e) {
    problem = file_.string() + ": " + e.what();
  }
  const fs::path aside = file_.string() + ".corrupt-" + timestamp();
  fs::rename(file_, aside, ec);
  problem += ec ? "; it could not be moved aside (" + ec.message() + ") and is left as it is"
                : "; it was moved to " + aside.string() + " and the defaults are used";
  spdlog::error("event=config_corrupt {}", problem);
  load_problem_ = problem;
  config_ = cluster_config{};
}

cluster_config config_store::snapshot() const {
  const std::lock_guard lock(mutex_);
  return config_;
}

cluster_config config_store::update(const std::function<void(cluster_config&)>& change) {
  const std::lock_guard lock(mutex_);
  cluster_config next = config_;
  change(next);
  validate_config(next);
  write_locked(next);
  config_ = next;
  return next;
}

std::optional<std::string> config_store::load_problem() const {
  const std::lock_guard lock(mutex_);
  return load_problem_;
}

void config_store::write_locked(const cluster_config& config) {
  fs::create_directories(file_.parent_path());
  write_file_atomic(file_, to_json(config).dump(2) + "\n");
}

}  // namespace comfydist::master
