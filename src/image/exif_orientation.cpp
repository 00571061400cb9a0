// EXIF orientation: reading the tag with libexif and rotating/flipping like PIL's exif_transpose.
#include <libexif/exif-data.h>

#include <limits>
#include <memory>

#include "image/codec_detail.hpp"

namespace comfydist::image::detail {

namespace {

struct exif_data_deleter {
  void operator()(ExifData* data) const { exif_data_unref(data); }
};

}  // namespace

int exif_orientation(std::span<const std::uint8_t> exif) {
  if (exif.empty() || exif.size() > std::numeric_limits<unsigned int>::max()) {
    return 1;
  }
  std::unique_ptr<ExifData, exif_data_deleter> data(exif_data_new());
  if (!data) {
    return 1;
  }
  // Only the orientation is needed: do not let libexif rewrite or complete the tag set.
  exif_data_unset_option(data.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_unset_option(data.get(), EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
  exif_data_load_data(data.get(), exif.data(), static_cast<unsigned int>(exif.size()));
  ExifEntry* entry = exif_content_get_entry(data->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
  if (entry == nullptr || entry->data == nullptr || entry->components < 1) {
    return 1;
  }
  const ExifByteOrder order = exif_data_get_byte_order(data.get());
  int value = 0;
  if (entry->format == EXIF_FORMAT_SHORT && entry->size >= 2) {
    value = exif_get_short(entry->data, order);
  } else if (entry->format == EXIF_FORMAT_LONG && entry->size >= 4) {
    value = static_cast<int>(exif_get_long(entry->data, order) & 0xffff);
  } else {
    return 1;
  }
  return value >= 1 && value <= 8 ? value : 1;
}

pixel_image apply_orientation(const pixel_image& image, int orientation) {
  if (orientation < 2 || orientation > 8) {
    return image;
  }
  const bool swap = orientation >= 5;
  const std::size_t w = static_cast<std::size_t>(image.width);
  const std::size_t h = static_cast<std::size_t>(image.height);
  const std::size_t channels = static_cast<std::size_t>(image.channels);
  pixel_image out;
  out.width = swap ? image.height : image.width;
  out.height = swap ? image.width : image.height;
  out.channels = image.channels;
  out.pixels.resize(out.byte_size());
  const std::size_t ow = static_cast<std::size_t>(out.width);
  const std::size_t oh = static_cast<std::size_t>(out.height);
  for (std::size_t oy = 0; oy < oh; ++oy) {
    for (std::size_t ox = 0; ox < ow; ++ox) {
      std::size_t sx = ox;
      std::size_t sy = oy;
      switch (orientation) {
        case 2:  // FLIP_LEFT_RIGHT
          sx = w - 1 - ox;
          break;
        case 3:  // ROTATE_180
          sx = w - 1 - ox;
          sy = h - 1 - oy;
          break;
        case 4:  // FLIP_TOP_BOTTOM
          sy = h - 1 - oy;
          break;
        case 5:  // TRANSPOSE
          sx = oy;
          sy = ox;
          break;
        case 6:  // ROTATE_270 (clockwise)
          sx = oy;
          sy = h - 1 - ox;
          break;
        case 7:  // TRANSVERSE
          sx = w - 1 - oy;
          sy = h - 1 - ox;
          break;
        default:  // 8: ROTATE_90 (counter-clockwise)
          sx = w - 1 - oy;
          sy = ox;
          break;
      }
      const std::uint8_t* src = image.pixels.data() + (sy * w + sx) * channels;
      std::uint8_t* dst = out.pixels.data() + (oy * ow + ox) * channels;
      for (std::size_t c = 0; c < channels; ++c) {
        dst[c] = src[c];
      }
    }
  }
  return out;
}

}  // namespace comfydist::image::detail
