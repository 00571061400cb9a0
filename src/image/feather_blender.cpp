// Feathered, order-independent blending of upscaled tiles: tile storage (spill files or memory),
// the axis weights, and the band-by-band accumulation in plan order.
#include "image/feather_blender.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "common/file_io.hpp"

namespace comfydist::image {
namespace {

constexpr std::string_view manifest_name = "plan.txt";

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

std::size_t tile_floats(const tile_plan& plan, int index) {
  const tile_rect& r = plan.tiles[static_cast<std::size_t>(index)];
  return static_cast<std::size_t>(r.width) * plan.scale * static_cast<std::size_t>(r.height) *
         plan.scale * 3;
}

// Everything the tiles depend on: a spill directory is only reused for the very same plan.
std::string manifest(const tile_plan& plan) {
  std::ostringstream out;
  out << "comfydist tile plan v1 " << plan.input_width << ' ' << plan.input_height << ' '
      << plan.scale << ' ' << plan.options.tile << ' ' << plan.options.overlap << ' '
      << (plan.options.feather == feather_kind::cosine ? "cosine" : "linear") << ' '
      << plan.tiles.size() << '\n';
  return out.str();
}

bool is_spill_file(const std::string& name) {
  const bool tile = name.starts_with("tile-") && name.ends_with(".f32");
  // write_file_atomic's temporaries, left behind by a crash mid-write.
  const bool temporary = name.starts_with(".") && name.ends_with(".tmp");
  return tile || temporary || name == manifest_name;
}

float ramp(int t, int feather, feather_kind kind) {
  const double u = (static_cast<double>(t) + 0.5) / feather;
  if (kind == feather_kind::cosine) {
    return static_cast<float>(0.5 - 0.5 * std::cos(std::numbers::pi * u));
  }
  return static_cast<float>(u);
}

// One axis of a tile's weight, `length` output pixels long.
void axis_weights(int length, bool ramp_low, bool ramp_high, int feather, feather_kind kind,
                  std::vector<float>& out) {
  out.assign(static_cast<std::size_t>(length), 1.0F);
  for (int t = 0; t < std::min(feather, length); ++t) {
    if (ramp_low) {
      out[static_cast<std::size_t>(t)] *= ramp(t, feather, kind);
    }
    if (ramp_high) {
      out[static_cast<std::size_t>(length - 1 - t)] *= ramp(t, feather, kind);
    }
  }
}

int default_band_rows(const tile_plan& plan, int band_rows) {
  if (band_rows < 0) {
    throw std::invalid_argument("band rows " + std::to_string(band_rows) + " must not be negative");
  }
  const int rows = band_rows == 0 ? plan.options.tile * plan.scale : band_rows;
  return std::min(rows, plan.output_height());
}

int max_tile_output(const tile_plan& plan, bool width) {
  int most = 0;
  for (const tile_rect& r : plan.tiles) {
    most = std::max(most, (width ? r.width : r.height) * plan.scale);
  }
  return most;
}

}  // namespace

feather_blender::feather_blender(const tile_plan& plan, std::filesystem::path spill_dir)
    : plan_(plan), dir_(std::move(spill_dir)), slots_(plan.tiles.size(), slot::empty) {
  if (dir_.empty()) {
    memory_tiles_.resize(plan_.tiles.size());
    return;
  }
  std::filesystem::create_directories(dir_);
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (is_spill_file(entry.path().filename().string())) {
      std::filesystem::remove(entry.path());
    }
  }
  write_file_atomic(dir_ / manifest_name, manifest(plan_));
}

feather_blender::feather_blender(const tile_plan& plan, std::filesystem::path spill_dir, reopen_tag)
    : plan_(plan), dir_(std::move(spill_dir)), slots_(plan.tiles.size(), slot::empty) {
  if (dir_.empty()) {
    throw std::invalid_argument("a tiled job kept in memory cannot be reopened");
  }
  const auto manifest_path = dir_ / manifest_name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(manifest_path, ec)) {
    throw std::invalid_argument("'" + dir_.string() + "' holds no tile plan to resume");
  }
  if (read_file(manifest_path) != manifest(plan_)) {
    throw std::invalid_argument("'" + dir_.string() + "' holds the tiles of another plan");
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".") && name.ends_with(".tmp")) {
      std::filesystem::remove(entry.path());
    }
  }
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const auto path = tile_path(static_cast<int>(i));
    if (!std::filesystem::exists(path, ec)) {
      continue;
    }
    if (std::filesystem::file_size(path) == tile_floats(plan_, static_cast<int>(i)) * 4) {
      slots_[i] = slot::stored;
    } else {
      std::filesystem::remove(path);
    }
  }
}

feather_blender feather_blender::reopen(const tile_plan& plan, std::filesystem::path spill_dir) {
  return feather_blender(plan, std::move(spill_dir), reopen_tag{});
}

std::filesystem::path feather_blender::tile_path(int index) const {
  std::string digits = std::to_string(index);
  digits.insert(0, digits.size() < 6 ? 6 - digits.size() : 0, '0');
  return dir_ / ("tile-" + digits + ".f32");
}

void feather_blender::account(std::ptrdiff_t bytes) {
  const std::size_t now =
      current_bytes_.fetch_add(static_cast<std::size_t>(bytes)) + static_cast<std::size_t>(bytes);
  std::size_t peak = peak_bytes_.load();
  while (now > peak && !peak_bytes_.compare_exchange_weak(peak, now)) {
  }
}

bool feather_blender::add(int index, std::span<const float> rgb, int width, int height) {
  if (index < 0 || static_cast<std::size_t>(index) >= plan_.tiles.size()) {
    throw std::invalid_argument("tile " + std::to_string(index) + " is not in the plan of " +
                                std::to_string(plan_.tiles.size()) + " tiles");
  }
  const tile_rect& r = plan_.tiles[static_cast<std::size_t>(index)];
  const int want_w = r.width * plan_.scale;
  const int want_h = r.height * plan_.scale;
  if (width != want_w || height != want_h) {
    throw std::invalid_argument("tile " + std::to_string(index) + " is " +
                                size_text(width, height) + ", expected " +
                                size_text(want_w, want_h));
  }
  const std::size_t floats = tile_floats(plan_, index);
  if (rgb.size() != floats) {
    throw std::invalid_argument("tile " + std::to_string(index) + " has " +
                                std::to_string(rgb.size()) + " values, expected " +
                                std::to_string(floats) + " (" + size_text(width, height) + " RGB)");
  }
  const auto at = static_cast<std::size_t>(index);
  {
    // Claimed before the slow write so a concurrent duplicate sees it taken.
    const std::lock_guard lock(mutex_);
    if (slots_[at] != slot::empty) {
      return false;
    }
    slots_[at] = slot::writing;
  }
  try {
    if (dir_.empty()) {
      std::vector<float> copy(rgb.begin(), rgb.end());
      account(static_cast<std::ptrdiff_t>(floats * sizeof(float)));
      const std::lock_guard lock(mutex_);
      memory_tiles_[at] = std::move(copy);
    } else {
      write_file_atomic(
          tile_path(index),
          std::string_view(reinterpret_cast<const char*>(rgb.data()), rgb.size_bytes()));
    }
  } catch (...) {
    const std::lock_guard lock(mutex_);
    slots_[at] = slot::empty;
    throw;
  }
  const std::lock_guard lock(mutex_);
  slots_[at] = slot::stored;
  return true;
}

bool feather_blender::has(int index) const {
  const std::lock_guard lock(mutex_);
  return index >= 0 && static_cast<std::size_t>(index) < slots_.size() &&
         slots_[static_cast<std::size_t>(index)] == slot::stored;
}

bool feather_blender::complete() const {
  return missing().empty();
}

std::vector<int> feather_blender::missing() const {
  const std::lock_guard lock(mutex_);
  std::vector<int> out;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i] != slot::stored) {
      out.push_back(static_cast<int>(i));
    }
  }
  return out;
}

void feather_blender::read_rows(int index, int first_row, int rows,
                                std::vector<float>& into) const {
  const std::size_t row_floats =
      static_cast<std::size_t>(plan_.tiles[static_cast<std::size_t>(index)].width) * plan_.scale *
      3;
  const std::size_t count = row_floats * static_cast<std::size_t>(rows);
  if (dir_.empty()) {
    const std::vector<float>& tile = memory_tiles_[static_cast<std::size_t>(index)];
    const auto begin = tile.begin() + static_cast<std::ptrdiff_t>(row_floats * first_row);
    std::copy(begin, begin + static_cast<std::ptrdiff_t>(count), into.begin());
    return;
  }
  const auto path = tile_path(index);
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(row_floats * first_row * sizeof(float)));
  in.read(reinterpret_cast<char*>(into.data()),
          static_cast<std::streamsize>(count * sizeof(float)));
  if (!in) {
    throw std::runtime_error("cannot read tile " + std::to_string(index) + " from '" +
                             path.string() + "'");
  }
}

std::size_t feather_blender::band_buffer_bound(const tile_plan& plan, int band_rows) {
  const auto rows = static_cast<std::size_t>(default_band_rows(plan, band_rows));
  const auto tw = static_cast<std::size_t>(max_tile_output(plan, true));
  const auto th = static_cast<std::size_t>(max_tile_output(plan, false));
  const auto width = static_cast<std::size_t>(plan.output_width());
  return sizeof(float) * (rows * width * 4 + std::min(rows, th) * tw * 3 + tw + th);
}

void feather_blender::finish(const band_callback& band, int band_rows) {
  const std::vector<int> absent = missing();
  if (!absent.empty()) {
    std::string list;
    for (std::size_t i = 0; i < absent.size() && i < 10; ++i) {
      list += (i == 0 ? "" : ", ") + std::to_string(absent[i]);
    }
    throw std::logic_error("cannot blend: " + std::to_string(absent.size()) + " of " +
                           std::to_string(plan_.tiles.size()) + " tiles are missing (" + list +
                           (absent.size() > 10 ? ", ...)" : ")"));
  }
  const int rows_per_band = default_band_rows(plan_, band_rows);
  const int out_w = plan_.output_width();
  const int out_h = plan_.output_height();
  const int tw = max_tile_output(plan_, true);
  const int th = max_tile_output(plan_, false);
  const int feather = plan_.options.overlap * plan_.scale;
  const auto width = static_cast<std::size_t>(out_w);

  // Accounted for the whole of finish(), whether it returns or throws from the callback.
  struct scope_account {
    feather_blender& self;
    std::ptrdiff_t bytes;
    ~scope_account() { self.account(-bytes); }
  };
  const std::size_t bytes = band_buffer_bound(plan_, rows_per_band);
  std::vector<float> sums(static_cast<std::size_t>(rows_per_band) * width * 3);
  std::vector<float> weights(static_cast<std::size_t>(rows_per_band) * width);
  std::vector<float> slice(static_cast<std::size_t>(std::min(rows_per_band, th)) *
                           static_cast<std::size_t>(tw) * 3);
  std::vector<float> wx;
  std::vector<float> wy;
  wx.reserve(static_cast<std::size_t>(tw));
  wy.reserve(static_cast<std::size_t>(th));
  account(static_cast<std::ptrdiff_t>(bytes));
  const scope_account release{*this, static_cast<std::ptrdiff_t>(bytes)};

  for (int y0 = 0; y0 < out_h; y0 += rows_per_band) {
    const int rows = std::min(rows_per_band, out_h - y0);
    std::fill(sums.begin(), sums.end(), 0.0F);
    std::fill(weights.begin(), weights.end(), 0.0F);
    // Plan index order, never arrival order: the fixed sequence of additions per pixel.
    for (const tile_rect& r : plan_.tiles) {
      const int ty = r.y * plan_.scale;
      const int tx = r.x * plan_.scale;
      const int tile_w = r.width * plan_.scale;
      const int tile_h = r.height * plan_.scale;
      const int first = std::max(y0, ty);
      const int last = std::min(y0 + rows, ty + tile_h);
      if (first >= last) {
        continue;
      }
      axis_weights(tile_w, r.x > 0, r.x + r.width < plan_.input_width, feather,
                   plan_.options.feather, wx);
      axis_weights(tile_h, r.y > 0, r.y + r.height < plan_.input_height, feather,
                   plan_.options.feather, wy);
      read_rows(r.index, first - ty, last - first, slice);
      for (int y = first; y < last; ++y) {
        const float row_weight = wy[static_cast<std::size_t>(y - ty)];
        const float* src = slice.data() + static_cast<std::size_t>(y - first) * tile_w * 3;
        const std::size_t out_row = static_cast<std::size_t>(y - y0) * width;
        float* sum = sums.data() + (out_row + static_cast<std::size_t>(tx)) * 3;
        float* weight = weights.data() + out_row + static_cast<std::size_t>(tx);
        for (int x = 0; x < tile_w; ++x) {
          const float w = row_weight * wx[static_cast<std::size_t>(x)];
          sum[x * 3 + 0] += w * src[x * 3 + 0];
          sum[x * 3 + 1] += w * src[x * 3 + 1];
          sum[x * 3 + 2] += w * src[x * 3 + 2];
          weight[x] += w;
        }
      }
    }
    const std::size_t pixels = static_cast<std::size_t>(rows) * width;
    for (std::size_t p = 0; p < pixels; ++p) {
      sums[p * 3 + 0] /= weights[p];
      sums[p * 3 + 1] /= weights[p];
      sums[p * 3 + 2] /= weights[p];
    }
    band(y0, rows, std::span<const float>(sums.data(), pixels * 3));
  }
}

pixel_image to_rgb8(std::span<const float> rgb, int width, int height) {
  pixel_image out;
  out.width = width;
  out.height = height;
  out.channels = 3;
  out.pixels.resize(out.byte_size());
  if (rgb.size() != out.pixels.size()) {
    throw std::invalid_argument(std::to_string(rgb.size()) + " values are not a " +
                                size_text(width, height) + " RGB image");
  }
  for (std::size_t i = 0; i < rgb.size(); ++i) {
    const float v = 255.0F * rgb[i];
    out.pixels[i] = std::isnan(v) ? 0 : static_cast<std::uint8_t>(std::clamp(v, 0.0F, 255.0F));
  }
  return out;
}

std::vector<float> from_rgb8(const pixel_image& image) {
  if (image.channels < 1 || image.channels > 4 || image.pixels.size() != image.byte_size()) {
    throw std::invalid_argument("a " + size_text(image.width, image.height) + " image with " +
                                std::to_string(image.channels) +
                                " channels is not 8-bit gray or RGB");
  }
  const std::size_t pixels =
      static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height);
  const auto channels = static_cast<std::size_t>(image.channels);
  const bool gray = image.channels < 3;
  std::vector<float> out(pixels * 3);
  for (std::size_t p = 0; p < pixels; ++p) {
    for (std::size_t c = 0; c < 3; ++c) {
      out[p * 3 + c] = static_cast<float>(image.pixels[p * channels + (gray ? 0 : c)]) / 255.0F;
    }
  }
  return out;
}

}  // namespace comfydist::image
