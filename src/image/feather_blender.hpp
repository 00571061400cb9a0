// The blender of distributed tiled upscaling: joins the upscaled tiles of a tile_plan into one
// float RGB image with feathered, normalised weights, bit-identically whatever order the tiles
// arrive in, within a bounded amount of memory, and able to resume after a master restart.
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "image/pixel_image.hpp"
#include "image/tile_plan.hpp"

namespace comfydist::image {

// Weights. Along each axis a tile weighs 1, except within F = overlap × scale output pixels of a
// side that has a neighbouring tile (a side on the image border stays at 1), where it ramps up
// from the edge: linear (t + ½)/F or cosine ½ − ½·cos(π(t + ½)/F) at distance t. Both ramps are
// a partition of unity where two tiles overlap by exactly F, so an evenly spaced seam blends
// without reweighting; where the shifted last tile overlaps more, the summed weight is divided
// out. A tile's weight is the product of its two axis weights; every weight is > 0.
//
// Order independence. Tiles are stored as they come (on disk, or in memory for small images) and
// only summed in finish(), always in plan index order, so each output pixel sees the same float
// additions in the same order whichever tile arrived first. Fixed-point sums would also be exact
// but cost 8 bytes a channel and a quantisation step; storing is needed anyway for bounded
// memory and restarts, so the fixed order comes free.
//
// Memory. With a spill directory, add() writes the caller's span straight to disk and keeps
// nothing; finish() holds only one band at a time: with W = output width, B = band rows,
// tw/th = a tile's output width/height,
//   B × W × 4 floats (RGB sums + weight sum; divided in place and handed to the callback)
// + min(B, th) × tw × 3 floats (the rows of one tile that touch the band)
// + (tw + th) floats (the tile's two axis weights),
// which band_buffer_bound() computes. For a 4096² input at ×4 (16384² output), tile 512: B = 2048
// gives 587 MB (about 560 MiB), B = 256 gives 73 MB, against 4.3 GB for a whole-image canvas.
// Without a spill directory the stored tiles also count (about 12 bytes per output pixel, more
// where tiles overlap).
//
// Spill directory layout: plan.txt (the plan, so reopen() can check it is the same job) and one
// tile-NNNNNN.f32 per stored tile (native float32, row-major interleaved RGB, written atomically
// so a crash leaves a tile whole or absent). The caller removes the directory when the job ends.
class feather_blender {
 public:
  // callback(y0, rows, rgb): rows × output width × 3 floats of output rows [y0, y0 + rows).
  using band_callback = std::function<void(int y0, int rows, std::span<const float> rgb)>;

  // A fresh job. Tiles go to spill_dir (created; tiles of an earlier job there are deleted), or
  // stay in memory when spill_dir is empty.
  feather_blender(const tile_plan& plan, std::filesystem::path spill_dir);

  // Resumes a job after a restart from the tiles already in spill_dir. Throws
  // std::invalid_argument when the directory holds no plan or another plan's tiles. A tile file
  // of the wrong size is deleted and counts as missing, so it is simply upscaled again.
  static feather_blender reopen(const tile_plan& plan, std::filesystem::path spill_dir);

  feather_blender(const feather_blender&) = delete;
  feather_blender& operator=(const feather_blender&) = delete;

  // Stores tile `index`: its upscaled pixels, width × height × 3 floats in [0, 1], where
  // width × height must be the plan's tile size × scale. Returns false (and stores nothing) when
  // the tile is already stored, so the first result of a retried unit wins. Throws
  // std::invalid_argument for an index outside the plan or a wrong size ("tile 3 is 100x100,
  // expected 256x256"). Safe to call from several threads, but not during finish().
  bool add(int index, std::span<const float> rgb, int width, int height);

  bool has(int index) const;
  bool complete() const;             // every tile of the plan is stored
  std::vector<int> missing() const;  // indices not yet stored, ascending

  // Streams the blended output top to bottom in bands of band_rows (0: one tile's output height,
  // capped at the image), reading only the tiles that touch each band. The result does not depend
  // on band_rows. Throws std::logic_error naming the missing tiles when the plan is incomplete.
  void finish(const band_callback& band, int band_rows = 0);

  // The most bytes this object's own buffers (finish()'s band buffers and in-memory tiles) have
  // held at once.
  std::size_t peak_buffer_bytes() const { return peak_bytes_.load(); }

  // finish()'s buffer bytes for this plan and band height (0 as in finish()), as documented above.
  static std::size_t band_buffer_bound(const tile_plan& plan, int band_rows = 0);

 private:
  struct reopen_tag {};
  feather_blender(const tile_plan& plan, std::filesystem::path spill_dir, reopen_tag);

  enum class slot : unsigned char { empty, writing, stored };

  std::filesystem::path tile_path(int index) const;
  void read_rows(int index, int first_row, int rows, std::vector<float>& into) const;
  void account(std::ptrdiff_t bytes);

  tile_plan plan_;
  std::filesystem::path dir_;
  mutable std::mutex mutex_;  // guards slots_ and memory_tiles_
  std::vector<slot> slots_;
  std::vector<std::vector<float>> memory_tiles_;  // only without a spill directory
  std::atomic<std::size_t> current_bytes_{0};
  std::atomic<std::size_t> peak_bytes_{0};
};

// Float RGB in [0, 1] to 8-bit RGB as ComfyUI saves images: ×255, clamped, truncated; NaN → 0.
pixel_image to_rgb8(std::span<const float> rgb, int width, int height);

// 8-bit pixels (gray expanded, alpha dropped) to float RGB in [0, 1], the form tiles are added in.
std::vector<float> from_rgb8(const pixel_image& image);

}  // namespace comfydist::image
