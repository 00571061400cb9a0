// GET /view and POST /upload/image: files of input/, output/ and temp/, confined to their folder.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>
#include <string>

#include "comfy/file_routes.hpp"
#include "common/api_error.hpp"
#include "common/file_io.hpp"
#include "common/json_text.hpp"
#include "common/safe_path.hpp"
#include "common/sha256.hpp"
#include "image/codecs.hpp"
#include "net/multipart.hpp"

namespace comfydist::comfy {
namespace fs = std::filesystem;
namespace {

net::http_response json_reply(int status, const json& body) {
  return net::http_response::json(status, to_text(body));
}

net::http_response error_reply(int status, const std::string& type, const std::string& message) {
  json error = json::object();
  error["type"] = type;
  error["message"] = message;
  json body = json::object();
  body["error"] = error;
  return json_reply(status, body);
}

std::optional<fs::path> folder_for_type(const file_folders& folders, const std::string& type) {
  if (type == "output") {
    return folders.output_dir;
  }
  if (type == "input") {
    return folders.input_dir;
  }
  if (type == "temp") {
    return folders.temp_dir;
  }
  return std::nullopt;
}

// Content types as Python's mimetypes guesses them, with the types ComfyUI refuses to serve as
// active content forced to application/octet-stream.
std::string content_type_for(const fs::path& file) {
  std::string ext = file.extension().string();
  for (auto& c : ext) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (ext == ".png") {
    return "image/png";
  }
  if (ext == ".jpg" || ext == ".jpeg") {
    return "image/jpeg";
  }
  if (ext == ".webp") {
    return "image/webp";
  }
  if (ext == ".gif") {
    return "image/gif";
  }
  if (ext == ".bmp") {
    return "image/bmp";
  }
  if (ext == ".json") {
    return "application/json";
  }
  if (ext == ".txt") {
    return "text/plain";
  }
  if (ext == ".mp4") {
    return "video/mp4";
  }
  if (ext == ".webm") {
    return "video/webm";
  }
  if (ext == ".wav") {
    return "audio/x-wav";
  }
  return "application/octet-stream";
}

// Quotes are not allowed inside the quoted filename of Content-Disposition.
std::string disposition(const std::string& name) {
  std::string safe;
  for (const char c : name) {
    safe += (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) ? '_' : c;
  }
  return "filename=\"" + safe + "\"";
}

struct view_request {
  fs::path file;
  std::string filename;
  std::optional<std::string> preview;
  std::string channel;
  bool channel_given = false;
};

view_request resolve_view(const file_folders& folders, const net::http_request& request) {
  auto filename = request.query_param("filename");
  if (!filename) {
    throw api_error(404, "not_found", "'filename' is required");
  }
  std::string type = request.query_param("type").value_or("output");
  // A trailing " [output]" / " [input]" / " [temp]" picks the folder, as in ComfyUI.
  for (const std::string annotated : {"output", "input", "temp"}) {
    const std::string suffix = " [" + annotated + "]";
    if (filename->size() >= suffix.size() &&
        filename->compare(filename->size() - suffix.size(), suffix.size(), suffix) == 0) {
      filename->resize(filename->size() - suffix.size());
      type = annotated;
      break;
    }
  }
  if (filename->empty() || filename->front() == '/' || filename->find("..") != std::string::npos ||
      filename->find('\0') != std::string::npos) {
    throw api_error(400, "invalid_filename", "the file name is empty or leaves its folder");
  }
  const auto base = folder_for_type(folders, type);
  if (!base) {
    throw api_error(400, "invalid_type", "'type' must be output, input or temp");
  }
  const std::string subfolder = request.query_param("subfolder").value_or("");
  const auto folder = confine_path(*base, subfolder);
  if (!folder) {
    throw api_error(403, "forbidden", "the subfolder leaves the " + type + " folder");
  }
  const std::string name = fs::path(*filename).filename().string();
  const auto file = confine_path(*folder, name);
  if (!file || !confine_path(*base, fs::relative(*file, *base).string())) {
    throw api_error(403, "forbidden", "the file leaves the " + type + " folder");
  }
  std::error_code ec;
  if (!fs::is_regular_file(*file, ec)) {
    throw api_error(404, "not_found", "no file '" + name + "' in " + type);
  }
  view_request view;
  view.file = *file;
  view.filename = name;
  view.preview = request.query_param("preview");
  view.channel = request.query_param("channel").value_or("rgba");
  view.channel_given = request.query_param("channel").has_value();
  return view;
}

image::pixel_image to_channels(const image::pixel_image& source, int channels) {
  image::pixel_image out;
  out.width = source.width;
  out.height = source.height;
  out.channels = channels;
  out.pixels.resize(out.byte_size());
  const std::size_t n = static_cast<std::size_t>(source.width) * source.height;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* s = &source.pixels[i * source.channels];
    std::uint8_t rgba[4];
    if (source.channels <= 2) {
      rgba[0] = rgba[1] = rgba[2] = s[0];
      rgba[3] = source.channels == 2 ? s[1] : 255;
    } else {
      rgba[0] = s[0];
      rgba[1] = s[1];
      rgba[2] = s[2];
      rgba[3] = source.channels == 4 ? s[3] : 255;
    }
    for (int c = 0; c < channels; ++c) {
      out.pixels[i * channels + c] = rgba[c];
    }
  }
  return out;
}

// preview=<webp|jpeg>[;quality] and channel=rgb|a re-encode the image (CPU work, off the I/O
// threads).
net::http_response encode_variant(const view_request& view) {
  const std::string bytes = read_file(view.file);
  image::decoded_image decoded;
  try {
    decoded = image::decode_image(bytes);
  } catch (const std::invalid_argument& ex) {
    throw api_error(400, "invalid_image",
                    std::string("cannot decode '") + view.filename + "': " + ex.what());
  }
  net::http_response response;
  response.headers.emplace_back("Content-Disposition", disposition(view.filename));
  if (view.preview) {
    const std::string& spec = *view.preview;
    const auto semicolon = spec.find(';');
    std::string format = spec.substr(0, semicolon);
    int quality = 90;
    if (semicolon != std::string::npos) {
      const std::string last = spec.substr(spec.rfind(';') + 1);
      if (!last.empty() && last.size() <= 3 &&
          last.find_first_not_of("0123456789") == std::string::npos) {
        quality = std::min(100, std::stoi(last));
      }
    }
    // Only an explicit channel with alpha forces WebP; the default channel (rgba) does not.
    if ((format != "webp" && format != "jpeg") ||
        (view.channel_given && view.channel.find('a') != std::string::npos)) {
      format = "webp";
    }
    if (format == "jpeg" || view.channel == "rgb") {
      decoded.image = to_channels(decoded.image, 3);
    } else if (decoded.image.channels < 3) {
      decoded.image = to_channels(decoded.image, decoded.image.channels == 2 ? 4 : 3);
    }
    response.body = format == "jpeg" ? image::encode_jpeg(decoded.image, quality)
                                     : image::encode_webp(decoded.image, quality);
    response.headers.emplace_back("Content-Type", "image/" + format);
    return response;
  }
  if (view.channel == "rgb") {
    response.body = image::encode_png(to_channels(decoded.image, 3), 1);
  } else {
    // channel=a: black RGB carrying the source alpha (255 where there is none).
    image::pixel_image rgba = to_channels(decoded.image, 4);
    for (std::size_t i = 0; i < rgba.pixels.size(); i += 4) {
      rgba.pixels[i] = rgba.pixels[i + 1] = rgba.pixels[i + 2] = 0;
    }
    response.body = image::encode_png(rgba, 1);
  }
  response.headers.emplace_back("Content-Type", "image/png");
  return response;
}

void get_view(const file_folders& folders, const net::http_request& request,
              const net::http_responder& reply) {
  view_request view = resolve_view(folders, request);
  if (!view.preview && (view.channel != "rgb" && view.channel != "a")) {
    net::http_response response;
    response.file = view.file;
    response.headers.emplace_back("Content-Disposition", disposition(view.filename));
    response.headers.emplace_back("Content-Type", content_type_for(view.file));
    reply(std::move(response));
    return;
  }
  const bool queued = folders.pool->submit([view = std::move(view), reply]() {
    try {
      reply(encode_variant(view));
    } catch (const api_error& ex) {
      reply(error_reply(ex.status(), ex.type(), ex.what()));
    } catch (const std::exception& ex) {
      spdlog::error("event=view_failed file={} error=\"{}\"", view.file.string(), ex.what());
      reply(error_reply(500, "internal_error", ex.what()));
    }
  });
  if (!queued) {
    throw api_error(503, "busy", "too many image conversions in progress; retry shortly");
  }
}

std::string part_text(const std::vector<net::multipart_part>& parts, const std::string& name,
                      const std::string& fallback) {
  for (const auto& part : parts) {
    if (part.name == name && !part.filename) {
      return part.data;
    }
  }
  return fallback;
}

json upload_image(const file_folders& folders, const net::http_request& request) {
  const auto content_type = request.header("content-type").value_or("");
  const auto parts = net::parse_multipart(content_type, request.body);
  const net::multipart_part* image_part = nullptr;
  for (const auto& part : parts) {
    if (part.name == "image") {
      image_part = &part;
      break;
    }
  }
  if (image_part == nullptr || !image_part->filename || image_part->filename->empty()) {
    throw api_error(400, "missing_image",
                    "the form needs a file field named 'image' with a file name");
  }
  const std::string type = part_text(parts, "type", "input");
  const auto base = folder_for_type(folders, type);
  if (!base) {
    throw api_error(400, "invalid_type", "'type' must be input, temp or output");
  }
  const std::string subfolder = part_text(parts, "subfolder", "");
  const std::string overwrite = part_text(parts, "overwrite", "");
  const std::string filename = *image_part->filename;
  if (!is_plain_file_name(filename) || filename.find('\0') != std::string::npos) {
    throw api_error(400, "invalid_filename", "the file name must be a plain name without folders");
  }
  const auto folder = confine_path(*base, subfolder);
  if (!folder) {
    throw api_error(400, "invalid_subfolder", "the subfolder leaves the " + type + " folder");
  }
  try {
    const auto decoded = image::decode_image(image_part->data);
    (void)decoded;
  } catch (const std::invalid_argument& ex) {
    throw api_error(400, "invalid_image",
                    "'" + filename + "' is not a readable image: " + ex.what());
  }

  const std::lock_guard lock(*folders.upload_mutex);
  fs::create_directories(*folder);
  // Re-check after creating: a symlinked subfolder must not lead outside.
  if (!confine_path(*base, fs::relative(*folder, *base).string())) {
    throw api_error(400, "invalid_subfolder", "the subfolder leaves the " + type + " folder");
  }
  std::string name = filename;
  if (overwrite != "true" && overwrite != "1") {
    const std::string digest = sha256_hex(image_part->data);
    const fs::path stem = fs::path(filename).stem();
    const std::string ext = fs::path(filename).extension().string();
    for (int i = 1; fs::exists(*folder / name); ++i) {
      if (fs::is_regular_file(*folder / name) && sha256_hex(read_file(*folder / name)) == digest) {
        break;  // same content: reuse the existing file
      }
      name = stem.string() + " (" + std::to_string(i) + ")" + ext;
      if (i > 10000) {
        throw api_error(409, "name_conflict", "too many files named like '" + filename + "'");
      }
    }
  }
  const fs::path target = *folder / name;
  if (!fs::exists(target) || overwrite == "true" || overwrite == "1") {
    write_file_atomic(target, image_part->data);
  }
  json body = json::object();
  body["name"] = name;
  body["subfolder"] = subfolder;
  body["type"] = type;
  return body;
}

}  // namespace

void add_file_routes(const route_adder& add, const file_folders& folders) {
  add("GET", "/view",
      [folders](const net::http_request& request, const net::http_responder& reply) {
        get_view(folders, request, reply);
      });
  add("POST", "/upload/image",
      [folders](net::http_request request, const net::http_responder& reply) {
        // Decoding and hashing the upload is CPU work: do it on the pool.
        auto shared = std::make_shared<net::http_request>(std::move(request));
        const bool queued = folders.pool->submit([folders, shared, reply]() {
          try {
            reply(json_reply(200, upload_image(folders, *shared)));
          } catch (const api_error& ex) {
            reply(error_reply(ex.status(), ex.type(), ex.what()));
          } catch (const std::exception& ex) {
            spdlog::error("event=upload_failed error=\"{}\"", ex.what());
            reply(error_reply(500, "internal_error", ex.what()));
          }
        });
        if (!queued) {
          throw api_error(503, "busy", "too many uploads in progress; retry shortly");
        }
      });
}

}  // namespace comfydist::comfy
