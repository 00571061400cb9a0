// The web panel: GET / answers the built panel's index.html and GET /assets/{file} its hashed
// scripts and styles, from web/dist (npm run build). Served without the auth token, since the
// panel is also the login page; everything it then asks of the master goes through the guarded
// /distributed/* routes.

#include <array>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "common/api_error.hpp"
#include "common/safe_path.hpp"
#include "master/master_routes.hpp"

namespace comfydist::master {
namespace fs = std::filesystem;
namespace {

bool has_index(const fs::path& dir) {
  std::error_code ec;
  return !dir.empty() && fs::is_regular_file(dir / "index.html", ec);
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

// Where the built panel is, looked up on every request so that a panel built while the master
// runs is served at once: $COMFYDIST_PANEL_DIR; a "web" folder next to the binary (an installed
// copy); web/dist of the checkout the binary was built in (build/comfydist → web/dist, and the
// source tree this file was compiled from).
fs::path find_panel_dir() {
  if (const char* env = std::getenv("COMFYDIST_PANEL_DIR"); env != nullptr && *env != '\0') {
    return has_index(env) ? fs::path(env) : fs::path();
  }
  const fs::path exe_dir = executable_dir();
  const fs::path source_root = fs::path(__FILE__).parent_path().parent_path().parent_path();
  const std::array<fs::path, 3> candidates{
      exe_dir.empty() ? fs::path() : exe_dir / "web",
      exe_dir.empty() ? fs::path() : exe_dir.parent_path() / "web" / "dist",
      source_root / "web" / "dist"};
  for (const auto& dir : candidates) {
    if (has_index(dir)) {
      return dir;
    }
  }
  return {};
}

std::string content_type_for(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".js" || ext == ".mjs") {
    return "text/javascript; charset=utf-8";
  }
  if (ext == ".css") {
    return "text/css; charset=utf-8";
  }
  if (ext == ".html") {
    return "text/html; charset=utf-8";
  }
  if (ext == ".json" || ext == ".map") {
    return "application/json; charset=utf-8";
  }
  if (ext == ".svg") {
    return "image/svg+xml";
  }
  if (ext == ".png") {
    return "image/png";
  }
  if (ext == ".webp") {
    return "image/webp";
  }
  if (ext == ".ico") {
    return "image/x-icon";
  }
  if (ext == ".woff2") {
    return "font/woff2";
  }
  if (ext == ".txt") {
    return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}

// What every panel response carries: no MIME sniffing, no framing by other sites, and for the
// page a policy that lets it load only the master's own scripts, styles, images and sockets.
void add_security_headers(net::http_response& response, bool is_page) {
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (is_page) {
    response.headers.emplace_back("X-Frame-Options", "DENY");
    response.headers.emplace_back(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'");
  }
}

net::http_response file_response(const fs::path& file, const std::string& cache_control,
                                 bool is_page) {
  net::http_response response;
  response.status = 200;
  response.file = file;
  response.headers.emplace_back("Content-Type", content_type_for(file));
  response.headers.emplace_back("Cache-Control", cache_control);
  add_security_headers(response, is_page);
  return response;
}

// Answered at / when web/dist has no index.html: how to build the panel; the API works anyway.
net::http_response not_built_page() {
  net::http_response response;
  response.status = 200;
  response.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  response.headers.emplace_back("Cache-Control", "no-store");
  add_security_headers(response, true);
  response.body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>comfydist</title></head><body style=\"font-family: system-ui, sans-serif; "
      "max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5\">"
      "<h1>comfydist master</h1><p>The master is running, but its web panel is not built.</p>"
      "<p>Build it from the repository root with <code>make build</code> (or <code>cd web "
      "&amp;&amp; "
      "npm ci &amp;&amp; npm run build</code>), then reload this page. To serve a panel built "
      "elsewhere, start the master with <code>COMFYDIST_PANEL_DIR=/path/to/dist</code>.</p>"
      "<p>The API answers meanwhile: <a href=\"distributed/workers\">/distributed/workers</a>.</p>"
      "</body></html>";
  return response;
}

void serve_index(const net::http_request&, const net::http_responder& reply) {
  const fs::path dir = find_panel_dir();
  if (dir.empty()) {
    reply(not_built_page());
    return;
  }
  // The page names the current hashed assets, so it is re-validated on every load.
  reply(file_response(dir / "index.html", "no-cache", true));
}

void serve_asset(const net::http_request& request, const net::http_responder& reply) {
  const std::string& name = request.path_params.at("file");
  const fs::path dir = find_panel_dir();
  if (dir.empty() || !is_plain_file_name(name)) {
    throw api_error(404, "not_found", "no such panel file");
  }
  const auto file = confine_path(dir / "assets", name);
  std::error_code ec;
  if (!file || !fs::is_regular_file(*file, ec)) {
    throw api_error(404, "not_found", "no such panel file: " + name);
  }
  // Vite puts a content hash in every asset name: a changed file gets a new name, so browsers
  // may keep these for good.
  reply(file_response(*file, "public, max-age=31536000, immutable", false));
}

}  // namespace

void add_panel_routes(net::http_server& server) {
  server.add_route("GET", "/", serve_index);
  server.add_route("GET", "/index.html", serve_index);
  server.add_route("GET", "/assets/{file}", serve_asset);
}

}  // namespace comfydist::master
