// Blending a tiled job's tiles into its output image.
#include "master/tile_blend.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/file_io.hpp"
#include "image/codecs.hpp"
#include "image/feather_blender.hpp"
#include "image/png_background_writer.hpp"
#include "image/png_files.hpp"
#include "master/tile_job_planner.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
namespace {

// Rows per blended band. The blender reads only the tile rows a band touches, so small bands
// cost no extra data; they bound the buffers at 16384² to ≈73 MB of float sums and weights
// (feather_blender::band_buffer_bound) plus three 12.6 MB bands of 8-bit rows waiting for the PNG.
constexpr int kBandRows = 256;

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

// Stores every tile the blender does not hold yet; the first tile is already decoded. Tiles are
// decoded and spilled on several threads (the blender takes them in any order and sums them in
// plan order later); the first error stops the others and is rethrown.
void add_tiles(image::feather_blender& blender, const tile_blend_request& request,
               const image::pixel_image& first, const std::function<void()>& check_interrupt) {
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  const auto work = [&] {
    for (std::size_t i = next++; i < request.tile_files.size(); i = next++) {
      const int index = static_cast<int>(i);
      try {
        {
          const std::lock_guard lock(error_mutex);
          if (error) {
            return;
          }
          check_interrupt();
        }
        if (blender.has(index)) {
          continue;
        }
        const image::pixel_image tile =
            i == 0 ? first : read_tile(request.temp_dir / request.tile_files[i], index);
        blender.add(index, image::from_rgb8(tile), tile.width, tile.height);
      } catch (const std::invalid_argument& ex) {
        const std::lock_guard lock(error_mutex);
        error = error ? error : std::make_exception_ptr(std::runtime_error(ex.what()));
        return;
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        error = error ? error : std::current_exception();
        return;
      }
    }
  };
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1U, 4U);
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads; ++t) {
    helpers.emplace_back(work);
  }
  work();
  for (auto& helper : helpers) {
    helper.join();
  }
  if (error) {
    std::rethrow_exception(error);
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
  const int width = plan.output_width();
  const int height = plan.output_height();
  const std::string name = "blended.png";
  {
    image::feather_blender blender = open_blender(plan, spill, request.job_id);
    add_tiles(blender, request, first, check_interrupt);
    const double added =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    spdlog::info("event=tiles_added job={} seconds={:.3f}", request.job_id, added);
    // Band by band into the file: the 8-bit image is never whole in memory either. The PNG is
    // deflated on its own thread while the next band is blended.
    image::png_stream_writer png(dir / name, width, height, 3, request.compress_level);
    image::png_background_writer writer(png);
    blender.finish(
        [&](int /*y0*/, int rows, std::span<const float> band) {
          writer.push(image::to_rgb8(band, width, rows).pixels);
        },
        kBandRows);
    writer.finish();
  }
  std::error_code ec;
  fs::remove_all(spill, ec);
  tile_blend_result result;
  result.blended = (fs::path("tiles") / request.job_id / name).generic_string();
  result.width = width;
  result.height = height;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace comfydist::master
