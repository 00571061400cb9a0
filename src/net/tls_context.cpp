// OpenSSL contexts for the server (certificate and key) and the client (system CAs plus an extra
// bundle), and TLS failures described for a system administrator.
#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include <filesystem>
#include <stdexcept>

namespace comfydist::net {

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

constexpr auto modern_only = ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1;

// Checked before OpenSSL so that a missing file is not reported as a PEM error.
void require_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw std::runtime_error(what + " '" + path + "' does not exist or is not a file");
  }
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const std::string& certfile,
                                                      const std::string& keyfile) {
  require_file(certfile, "TLS certificate file");
  require_file(keyfile, "TLS key file");
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(modern_only | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(certfile, ec);
  if (ec) {
    throw std::runtime_error("cannot load TLS certificate file '" + certfile +
                             "': " + ec.message());
  }
  ctx->use_private_key_file(keyfile, ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    throw std::runtime_error("TLS key file '" + keyfile + "' does not match certificate '" +
                             certfile + "'");
  }
  if (ec) {
    throw std::runtime_error("cannot load TLS key file '" + keyfile + "': " + ec.message());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("TLS key file '" + keyfile + "' does not match certificate '" +
                             certfile + "'");
  }
  return ctx;
}

std::shared_ptr<ssl::context> make_client_tls_context(const std::string& extra_ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(modern_only);
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) {
    throw std::runtime_error("cannot find the system CA certificates: " + ec.message());
  }
  if (!extra_ca_file.empty()) {
    require_file(extra_ca_file, "extra CA file");
    ctx->load_verify_file(extra_ca_file, ec);
    if (ec) {
      throw std::runtime_error("cannot load extra CA file '" + extra_ca_file +
                               "': " + ec.message());
    }
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

void prepare_client_session(SSL* ssl, const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  const bool is_address = !ec;
  // OpenSSL's own name check (rather than a verify callback) so that a mismatch is reported as
  // "hostname mismatch" in the verify result instead of an unspecified failure.
  bool accepted = false;
  if (is_address) {
    accepted = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  } else {
    // RFC 6066: SNI carries host names only, never addresses.
    accepted =
        SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
  }
  if (!accepted) {
    ERR_clear_error();
    throw std::runtime_error("TLS: cannot use '" + host + "' as the server name");
  }
}

std::string describe_tls_failure(const boost::system::error_code& ec, SSL* ssl) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return std::string("TLS: certificate verify failed (") + X509_verify_cert_error_string(verify) +
           ")";
  }
  if (ec == ssl::error::stream_truncated) {
    return "TLS: the server closed the connection during the handshake";
  }
  if (ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_WRONG_VERSION_NUMBER) {
    return "TLS: " + ec.message() + " (is the server speaking plain HTTP?)";
  }
  return "TLS: " + ec.message();
}

}  // namespace comfydist::net
