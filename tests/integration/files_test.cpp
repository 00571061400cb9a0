// /upload/image and /view against the real worker: de-duplication and renaming, previews and
// channels, and every way a client may try to leave a folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "image/codecs.hpp"
#include "worker_process.hpp"

namespace comfydist::testing {
namespace {
namespace fs = std::filesystem;

std::string multipart(const std::vector<std::pair<std::string, std::string>>& fields,
                      const std::string& filename, const std::string& content,
                      const std::string& boundary = "XyZboundary42") {
  std::string body;
  for (const auto& [name, value] : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" +
            value + "\r\n";
  }
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" +
          filename + "\"\r\nContent-Type: image/png\r\n\r\n" + content + "\r\n";
  body += "--" + boundary + "--\r\n";
  return body;
}

net::client_response upload(const worker_process& worker,
                            const std::vector<std::pair<std::string, std::string>>& fields,
                            const std::string& filename, const std::string& content) {
  return worker.post("/upload/image", multipart(fields, filename, content),
                     {{"Content-Type", "multipart/form-data; boundary=XyZboundary42"}});
}

class Files : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { worker_ = new worker_process(); }
  static void TearDownTestSuite() {
    delete worker_;
    worker_ = nullptr;
  }
  static worker_process* worker_;
};
worker_process* Files::worker_ = nullptr;

TEST_F(Files, UploadDeduplicatesAndRenames) {
  const std::string red = make_png(4, 4, 3, 200);
  const std::string blue = make_png(4, 4, 3, 20);
  auto r = upload(*worker_, {}, "up.png", red);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"name": "up.png", "subfolder": "", "type": "input"})"));
  r = upload(*worker_, {}, "up.png", red);  // same content: reused
  EXPECT_EQ(json::parse(r.body)["name"], "up.png");
  r = upload(*worker_, {}, "up.png", blue);  // other content: renamed
  EXPECT_EQ(json::parse(r.body)["name"], "up (1).png");
  r = upload(*worker_, {{"overwrite", "true"}}, "up.png", blue);
  EXPECT_EQ(json::parse(r.body)["name"], "up.png");
  r = upload(*worker_, {{"subfolder", "sub/dir"}, {"type", "temp"}}, "s.png", red);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"name": "s.png", "subfolder": "sub/dir", "type": "temp"})"));
  EXPECT_TRUE(fs::exists(worker_->data_dir() / "data/temp/sub/dir/s.png"));
  const auto view = worker_->get("/view?filename=s.png&subfolder=sub/dir&type=temp");
  EXPECT_EQ(view.status, 200);
  EXPECT_EQ(view.body, red);
  // The uploaded file appears in LoadImage's list.
  const json info = json::parse(worker_->get("/object_info/LoadImage").body);
  const json files = info["LoadImage"]["input"]["required"]["image"][0];
  EXPECT_NE(std::find(files.begin(), files.end(), "up.png"), files.end());
}

TEST_F(Files, UploadRefusesTraversalAndBadImages) {
  const std::string png = make_png(2, 2, 3, 1);
  for (const std::string name : {"../evil.png", "a/b.png", "..", "/etc/evil.png"}) {
    const auto r = upload(*worker_, {}, name, png);
    EXPECT_EQ(r.status, 400) << name << " " << r.body;
  }
  for (const std::string sub : {"../..", "../x", "/abs"}) {
    const auto r = upload(*worker_, {{"subfolder", sub}}, "ok.png", png);
    EXPECT_EQ(r.status, 400) << sub << " " << r.body;
  }
  auto r = upload(*worker_, {}, "text.png", "definitely not an image");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "invalid_image");
  r = upload(*worker_, {}, "trunc.png", png.substr(0, png.size() / 2));
  EXPECT_EQ(r.status, 400);
  r = upload(*worker_, {{"type", "models"}}, "x.png", png);
  EXPECT_EQ(r.status, 400);
  r = worker_->post("/upload/image", "not multipart", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(fs::exists(worker_->data_dir() / "evil.png"));
  EXPECT_FALSE(fs::exists(worker_->data_dir() / "data/evil.png"));
  EXPECT_TRUE(worker_->alive());
}

TEST_F(Files, ViewRefusesTraversal) {
  std::ofstream(worker_->data_dir() / "secret.txt") << "secret";
  fs::create_symlink(worker_->data_dir(), worker_->data_dir() / "data/output/link");
  EXPECT_EQ(worker_->get("/view?filename=../secret.txt&type=output").status, 400);
  EXPECT_EQ(worker_->get("/view?filename=/etc/passwd").status, 400);
  EXPECT_EQ(worker_->get("/view?filename=secret.txt&subfolder=../..&type=output").status, 403);
  EXPECT_EQ(worker_->get("/view?filename=secret.txt&subfolder=link&type=output").status, 403);
  EXPECT_EQ(worker_->get("/view?filename=x.png&type=models").status, 400);
  EXPECT_EQ(worker_->get("/view?filename=a%00b.png").status, 400);
  EXPECT_EQ(worker_->get("/view?filename=nope.png").status, 404);
  EXPECT_EQ(worker_->get("/view").status, 404);
}

TEST_F(Files, LoadImageRefusesNamesOutsideInput) {
  std::ofstream(worker_->data_dir() / "outside.png") << make_png(2, 2, 3, 9);
  fs::create_symlink(worker_->data_dir() / "outside.png",
                     worker_->data_dir() / "data/input/link.png");
  for (const std::string name : {"../outside.png", "/etc/passwd", "link.png", "a\u0000b.png"}) {
    json prompt =
        json::parse(R"({"2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}})");
    prompt["1"] = json::parse(R"({"class_type": "LoadImage", "inputs": {}})");
    prompt["1"]["inputs"]["image"] = name;
    json body = json::object();
    body["prompt"] = prompt;
    const auto r = worker_->post_json("/prompt", body);
    EXPECT_EQ(r.status, 400) << name << " " << r.body;
  }
}

TEST_F(Files, PreviewAndChannelVariants) {
  const std::string png = make_png(8, 6, 4, 128);
  ASSERT_EQ(upload(*worker_, {}, "rgba.png", png).status, 200);
  auto r = worker_->get("/view?filename=rgba.png&type=input&preview=webp;50");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("content-type"), "image/webp");
  EXPECT_EQ(image::sniff_format(std::span<const std::uint8_t>(
                reinterpret_cast<const std::uint8_t*>(r.body.data()), r.body.size())),
            image::image_format::webp);
  r = worker_->get("/view?filename=rgba.png&type=input&preview=jpeg;80");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("content-type"), "image/jpeg");
  r = worker_->get("/view?filename=rgba.png&type=input&channel=a");
  ASSERT_EQ(r.status, 200);
  auto decoded = image::decode_image(r.body);
  ASSERT_EQ(decoded.image.channels, 4);
  EXPECT_EQ(decoded.image.pixels[0], 0);
  EXPECT_EQ(decoded.image.pixels[3], 128);
  r = worker_->get("/view?filename=rgba.png&type=input&channel=rgb");
  decoded = image::decode_image(r.body);
  EXPECT_EQ(decoded.image.channels, 3);
  // Annotated names select the folder.
  EXPECT_EQ(worker_->get("/view?filename=rgba.png%20%5Binput%5D").status, 200);
}

}  // namespace
}  // namespace comfydist::testing
