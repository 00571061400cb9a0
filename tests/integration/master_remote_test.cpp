// Remote and cloud workers seen by a real `comfydist serve`: a native worker on another loopback
// port, one behind TLS with and without a trusted CA, and peers that answer garbage or hang.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "master_process.hpp"
#include "worker_process.hpp"

namespace comfydist::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A TCP peer on loopback that either answers every request with a non-ComfyUI body or accepts
// connections and never answers.
class bad_peer {
 public:
  enum class mode { garbage, hang };
  explicit bad_peer(mode m) : mode_(m) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      throw std::runtime_error("bad_peer: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~bad_peer() {
    stop_ = true;
    thread_.join();
    for (const int fd : held_) {
      ::close(fd);
    }
    ::close(fd_);
  }
  bad_peer(const bad_peer&) = delete;
  bad_peer& operator=(const bad_peer&) = delete;
  int port() const { return port_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        continue;
      }
      if (mode_ == mode::hang) {
        held_.push_back(client);
        continue;
      }
      char buffer[4096];
      pollfd c{client, POLLIN, 0};
      if (::poll(&c, 1, 1000) > 0) {
        [[maybe_unused]] const auto n = ::recv(client, buffer, sizeof buffer, 0);
      }
      const std::string reply = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nnot json";
      [[maybe_unused]] const auto sent = ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }

  mode mode_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

// A CA and a certificate for localhost / 127.0.0.1 signed by it, made with the openssl CLI.
struct test_pki {
  fs::path dir;
  fs::path ca;
  fs::path cert;
  fs::path key;
  bool ok = false;

  test_pki() {
    std::string pattern = (fs::temp_directory_path() / "comfydist-pki-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return;
    }
    dir = pattern;
    ca = dir / "ca.pem";
    cert = dir / "server.pem";
    key = dir / "server.key";
    std::ofstream(dir / "ext.cnf") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                      "basicConstraints=CA:FALSE\n"
                                      "extendedKeyUsage=serverAuth\n";
    const std::string d = dir.string();
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string commands =
        "cd '" + d + "' && openssl req -x509" + ec +
        " -keyout ca.key -out ca.pem -days 2 -subj '/CN=comfydist test CA' && openssl req" + ec +
        " -keyout server.key -out server.csr -subj '/CN=localhost' && openssl x509 -req -in "
        "server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile "
        "ext.cnf";
    ok = std::system(("(" + commands + ") > '" + d + "/openssl.log' 2>&1").c_str()) == 0;
  }
  ~test_pki() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

TEST(MasterRemote, NativeWorkerOnAnotherLoopbackPortIsIdle) {
  worker_process worker;
  json config = test_config();
  config["workers"].push_back(remote_worker("lan worker", "127.0.0.1", worker.port()));
  const std::string id = config["workers"][0]["id"];
  master_process master({config, std::nullopt, {}});
  const json idle = master.wait_state(id, "idle", 10s);
  EXPECT_EQ(idle["url"], "http://127.0.0.1:" + std::to_string(worker.port()));
  EXPECT_TRUE(idle["pid"].is_null());
  master.wait_worker(
      id, [](const json& w) { return w["devices"].is_array() && !w["devices"].empty(); }, 5s,
      "idle with its devices");
  // Remote logs stay on their machine.
  const auto log = master.request("GET", "/distributed/workers/" + id + "/log");
  EXPECT_EQ(log.status, 404);
  EXPECT_NE(log.body.find("log_not_available"), std::string::npos);
  // Interrupt reaches it through the master.
  const auto interrupt = master.request("POST", "/distributed/interrupt");
  ASSERT_EQ(interrupt.status, 200);
  const json results = json::parse(interrupt.body)["results"];
  ASSERT_EQ(results.size(), 1U);
  EXPECT_EQ(results[0]["ok"], true) << interrupt.body;
}

TEST(MasterRemote, CloudWorkerOverTlsNeedsItsCa) {
  test_pki pki;
  if (!pki.ok) {
    GTEST_SKIP() << "openssl could not make a test certificate";
  }
  worker_process worker({"--tls-certfile", pki.cert.string(), "--tls-keyfile", pki.key.string()});
  json config = test_config();
  config["workers"].push_back(remote_worker("pod", "localhost", worker.port(), "cloud"));
  const std::string id = config["workers"][0]["id"];
  {
    master_process untrusting({config, std::nullopt, {}});
    const json offline = untrusting.wait_worker(
        id, [](const json& w) { return w["state"] == "offline" && w["last_error"].is_string(); },
        10s, "offline with a reason");
    EXPECT_NE(offline["last_error"].get<std::string>().find("TLS"), std::string::npos)
        << offline.dump();
    EXPECT_EQ(offline["url"], "https://localhost:" + std::to_string(worker.port()));
  }
  config["settings"]["extra_ca_file"] = pki.ca.string();
  master_process trusting({config, std::nullopt, {}});
  trusting.wait_state(id, "idle", 10s);
}

TEST(MasterRemote, GarbageAndSilentWorkersGoOfflineWithoutStallingTheMaster) {
  bad_peer garbage(bad_peer::mode::garbage);
  bad_peer silent(bad_peer::mode::hang);
  json config = test_config();
  config["workers"].push_back(remote_worker("garbage", "127.0.0.1", garbage.port()));
  config["workers"].push_back(remote_worker("silent", "127.0.0.1", silent.port()));
  const std::string garbage_id = config["workers"][0]["id"];
  const std::string silent_id = config["workers"][1]["id"];
  master_process master({config, std::nullopt, {}});
  const json bad = master.wait_worker(
      garbage_id,
      [](const json& w) { return w["state"] == "offline" && w["last_error"].is_string(); }, 10s,
      "offline with a reason");
  EXPECT_NE(bad["last_error"].get<std::string>().find("ComfyUI"), std::string::npos) << bad.dump();
  // The silent one times out (3 s per probe) while the master keeps answering: wait_worker polls
  // it all along.
  const json hung = master.wait_worker(
      silent_id,
      [](const json& w) { return w["state"] == "offline" && w["last_error"].is_string(); }, 15s,
      "offline after timeouts");
  EXPECT_NE(hung["last_error"].get<std::string>().find("timed out"), std::string::npos)
      << hung.dump();
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(master.request("GET", "/distributed/config").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
}

}  // namespace
}  // namespace comfydist::testing
