// Blending a tiled job's tiles into its output image.
#include "master/tile_blend.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

#include "common/file_io.hpp"
#include "image/codecs.hpp"
#include "image/feather_blender.hpp"
#include "master/tile_job_planner.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
namespace {

// The blended image is read back once by the master's own prompt: speed over size.
constexpr int kBlendedPngLevel = 1;

image::pixel_image read_tile(const fs::path& path, int index) {
  try {
    return image::decode_image(read_file(path)).image;
  } catch (const std::exception& ex) {
    throw std::runtime_error("tile " + std::to_string(index) + " (" + path.filename().string() +
                             ") cannot be read: " + ex.what());
  }
}

// The model's scale: the spec's, or what the first tile says.
int scale_of(const json& spec, const image::pixel_image& first) {
  const int stored = spec.value("scale", 0);
  if (stored > 0) {
    return stored;
  }
  const int tw = spec.at("tile_width").get<int>();
  const int th = spec.at("tile_height").get<int>();
  if (first.width % tw != 0 || first.width / tw != first.height / th || first.height % th != 0) {
    throw std::runtime_error("tile 0 is " + std::to_string(first.width) + "x" +
                             std::to_string(first.height) + ", not a whole multiple of the " +
                             std::to_string(tw) + "x" + std::to_string(th) + " tile");
  }
  return first.width / tw;
}

// A master that died while blending left some tiles spilled: keep those. (The blender is neither
// copyable nor movable, hence a factory returning it by value.)
image::feather_blender open_blender(const image::tile_plan& plan, const fs::path& spill,
                                    const std::string& job_id) {
  std::error_code ec;
  if (fs::exists(spill / "plan.txt", ec)) {
    try {
      return image::feather_blender::reopen(plan, spill);
    } catch (const std::invalid_argument& ex) {
      spdlog::warn("event=tile_spill_discarded job={} why=\"{}\"", job_id, ex.what());
    }
  }
  return image::feather_blender(plan, spill);
}

// Stores every tile the blender does not hold yet; the first tile is already decoded.
void add_tiles(image::feather_blender& blender, const tile_blend_request& request,
               const image::pixel_image& first, const std::function<void()>& check_interrupt) {
  for (std::size_t i = 0; i < request.tile_files.size(); ++i) {
    const int index = static_cast<int>(i);
    if (blender.has(index)) {
      continue;
    }
    check_interrupt();
    const image::pixel_image tile =
        i == 0 ? first : read_tile(request.temp_dir / request.tile_files[i], index);
    try {
      blender.add(index, image::from_rgb8(tile), tile.width, tile.height);
    } catch (const std::invalid_argument& ex) {
      throw std::runtime_error(ex.what());
    }
  }
}

}  // namespace

fs::path tile_job_dir(const fs::path& temp_dir, const std::string& job_id) {
  return temp_dir / "tiles" / job_id;
}

tile_blend_result blend_tiles(const tile_blend_request& request,
                              const std::function<void()>& check_interrupt) {
  const auto started = std::chrono::steady_clock::now();
  if (request.tile_files.empty()) {
    throw std::runtime_error("the tiled job has no tiles");
  }
  const fs::path dir = tile_job_dir(request.temp_dir, request.job_id);
  const fs::path spill = dir / "spill";
  const image::pixel_image first = read_tile(request.temp_dir / request.tile_files.front(), 0);
  const int scale = scale_of(request.spec, first);
  image::tile_plan plan;
  try {
    plan = tile_plan_of(request.spec, scale);
  } catch (const std::invalid_argument& ex) {
    throw std::runtime_error(std::string("the upscaled image cannot be blended: ") + ex.what());
  }
  if (plan.tiles.size() != request.tile_files.size()) {
    throw std::runtime_error("the plan has " + std::to_string(plan.tiles.size()) +
                             " tiles but the job brought back " +
                             std::to_string(request.tile_files.size()));
  }
  image::pixel_image out;
  out.width = plan.output_width();
  out.height = plan.output_height();
  out.channels = 3;
  out.pixels.resize(out.byte_size());
  {
    image::feather_blender blender = open_blender(plan, spill, request.job_id);
    add_tiles(blender, request, first, check_interrupt);
    blender.finish([&](int y0, int rows, std::span<const float> band) {
      const image::pixel_image bytes = image::to_rgb8(band, out.width, rows);
      std::copy(bytes.pixels.begin(), bytes.pixels.end(),
                out.pixels.begin() +
                    static_cast<std::ptrdiff_t>(static_cast<std::size_t>(y0) *
                                                static_cast<std::size_t>(out.width) * 3));
    });
  }
  const std::string name = "blended.png";
  std::error_code ec;
  write_file_atomic(dir / name, image::encode_png(out, kBlendedPngLevel));
  fs::remove_all(spill, ec);
  tile_blend_result result;
  result.blended = (fs::path("tiles") / request.job_id / name).generic_string();
  result.width = out.width;
  result.height = out.height;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace comfydist::master
