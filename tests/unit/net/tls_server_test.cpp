// Tests of HTTPS: the server with a certificate from a throw-away CA, and the asynchronous client's
// verification (CA trust, host names, addresses) and error reports.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "net/async_http_client.hpp"
#include "net/http_server.hpp"
#include "server_harness.hpp"
#include "test_certificates.hpp"

namespace comfydist::net {
namespace {

using testing::pem_files;
using testing::start_server;
using testing::test_pki;

std::unique_ptr<http_server> tls_server(const pem_files& files) {
  http_server_options options;
  options.tls_certfile = files.certificate.string();
  options.tls_keyfile = files.key.string();
  return start_server(
      [](http_server& s) {
        s.add_route("GET", "/", [](http_request request, http_responder respond) {
          respond(http_response::json(200, R"({"path":")" + request.path + R"("})"));
        });
        websocket_handlers greeter;
        greeter.on_open = [](const http_request&, std::shared_ptr<websocket_connection> c) {
          c->send_text("hello");
        };
        s.add_websocket("/ws", greeter);
      },
      options);
}

// Sends `bytes` over TLS to localhost:port (trusting only `ca_file`) and returns what arrives until
// `enough` holds, the peer closes, or 5 s pass without data.
std::string tls_exchange(std::uint16_t port, const std::string& ca_file, const std::string& bytes,
                         const std::function<bool(const std::string&)>& enough) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  testing::raw_connection connection(port);
  timeval timeout{5, 0};
  ::setsockopt(connection.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  SSL_set_fd(ssl.get(), connection.fd());
  SSL_set_tlsext_host_name(ssl.get(), "localhost");
  SSL_set1_host(ssl.get(), "localhost");
  if (SSL_connect(ssl.get()) != 1) {
    return "handshake failed";
  }
  SSL_write(ssl.get(), bytes.data(), static_cast<int>(bytes.size()));
  std::string received;
  char buffer[4096];
  while (!enough(received)) {
    const int n = SSL_read(ssl.get(), buffer, sizeof buffer);
    if (n <= 0) {
      break;
    }
    received.append(buffer, static_cast<std::size_t>(n));
  }
  return received;
}

client_request https(const std::string& host, std::uint16_t port) {
  client_request request;
  request.scheme = "https";
  request.host = host;
  request.port = port;
  request.timeout = std::chrono::seconds(10);
  return request;
}

class tls_server_test : public ::testing::Test {
 protected:
  async_http_client_options trusting_test_ca(int threads = 1) const {
    async_http_client_options options;
    options.threads = threads;
    options.extra_ca_file = pki_.ca_file().string();
    return options;
  }

  test_pki pki_;
  pem_files localhost_ = pki_.issue("localhost", "DNS:localhost,IP:127.0.0.1");
};

TEST_F(tls_server_test, untrusted_ca_is_a_tls_error_naming_the_reason) {
  auto server = tls_server(localhost_);
  async_http_client client;
  const auto result = client.fetch_sync(https("localhost", server->bound_port()));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_kind, "tls");
  EXPECT_NE(result.error.find("TLS: certificate verify failed ("), std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("local issuer"), std::string::npos) << result.error;
}

TEST_F(tls_server_test, extra_ca_file_makes_the_server_trusted_by_name_and_address) {
  auto server = tls_server(localhost_);
  async_http_client client(trusting_test_ca());
  auto result = client.fetch_sync(https("localhost", server->bound_port()));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, R"({"path":"/"})");
  result = client.fetch_sync(https("127.0.0.1", server->bound_port()));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 200);
}

TEST_F(tls_server_test, certificate_for_another_name_or_address_is_refused) {
  auto server = tls_server(pki_.issue("other", "DNS:other.example,IP:10.9.9.9"));
  async_http_client client(trusting_test_ca());
  auto result = client.fetch_sync(https("localhost", server->bound_port()));
  EXPECT_EQ(result.error_kind, "tls");
  EXPECT_EQ(result.error, "TLS: certificate verify failed (hostname mismatch)");
  result = client.fetch_sync(https("127.0.0.1", server->bound_port()));
  EXPECT_EQ(result.error_kind, "tls");
  EXPECT_EQ(result.error, "TLS: certificate verify failed (IP address mismatch)");
}

TEST_F(tls_server_test, one_hundred_concurrent_https_fetches_complete) {
  auto server = tls_server(localhost_);
  std::mutex mutex;
  std::condition_variable cv;
  int ok = 0;
  int done = 0;
  std::string first_error;
  async_http_client client(trusting_test_ca(2));
  constexpr int count = 100;
  for (int i = 0; i < count; ++i) {
    client.fetch(https("localhost", server->bound_port()), [&](client_result result) {
      std::lock_guard lock(mutex);
      ++done;
      if (result.ok && result.status == 200) {
        ++ok;
      } else if (first_error.empty()) {
        first_error = result.error;
      }
      cv.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return done == count; }));
  EXPECT_EQ(ok, count) << first_error;
}

TEST_F(tls_server_test, websocket_upgrades_over_tls) {
  auto server = tls_server(localhost_);
  const std::string upgrade =
      "GET /ws?clientId=abc HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n";
  // The 101 reply, then the server's first frame: FIN + text, unmasked, length 5, "hello".
  const std::string frame = std::string("\x81\x05") + "hello";
  const auto received = tls_exchange(
      server->bound_port(), pki_.ca_file().string(), upgrade,
      [&](const std::string& bytes) { return bytes.find(frame) != std::string::npos; });
  EXPECT_EQ(received.rfind("HTTP/1.1 101", 0), 0U) << received;
  EXPECT_NE(received.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << received;
  EXPECT_NE(received.find(frame), std::string::npos) << received;
}

TEST_F(tls_server_test, plain_and_tls_mismatches_fail_clearly) {
  auto tls = tls_server(localhost_);
  auto plain = start_server([](http_server&) {});
  async_http_client client;
  client_request request;
  request.host = "127.0.0.1";
  request.port = tls->bound_port();
  request.timeout = std::chrono::seconds(5);
  auto result = client.fetch_sync(request);
  EXPECT_FALSE(result.ok);

  result = client.fetch_sync(https("127.0.0.1", plain->bound_port()));
  EXPECT_EQ(result.error_kind, "tls");
  EXPECT_NE(result.error.find("is the server speaking plain HTTP?"), std::string::npos)
      << result.error;
}

TEST_F(tls_server_test, server_refuses_to_start_without_usable_files) {
  http_server_options options;
  options.addresses = {"127.0.0.1"};
  options.port = 0;

  options.tls_certfile = (pki_.dir() / "missing.crt").string();
  options.tls_keyfile = localhost_.key.string();
  try {
    http_server(options).start();
    FAIL() << "started without a certificate";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.crt"), std::string::npos) << e.what();
  }

  options.tls_certfile = localhost_.certificate.string();
  options.tls_keyfile = pki_.issue("second", "DNS:localhost").key.string();
  try {
    http_server(options).start();
    FAIL() << "started with a key that does not match";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
  }

  const auto garbage = pki_.dir() / "garbage.crt";
  std::ofstream(garbage) << "not a certificate\n";
  options.tls_certfile = garbage.string();
  options.tls_keyfile = localhost_.key.string();
  EXPECT_THROW(http_server(options).start(), std::runtime_error);

  options.tls_certfile = localhost_.certificate.string();
  options.tls_keyfile.clear();
  EXPECT_THROW(http_server(options).start(), std::runtime_error);
}

}  // namespace
}  // namespace comfydist::net
