// OpenSSL contexts for the server and the client, per-connection client checks, and TLS failures
// in words (internal to src/net; includes Asio's SSL).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>

namespace comfydist::net {

// Loads a PEM certificate chain and its private key. Throws std::runtime_error naming the file.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& certfile,
                                                                   const std::string& keyfile);

// Verifies peers against the system CAs plus `extra_ca_file` (a PEM bundle; may be empty).
// Throws std::runtime_error naming the file.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(
    const std::string& extra_ca_file);

// Sets SNI (for names) and the name or address the peer certificate must carry. Throws
// std::runtime_error when OpenSSL refuses them.
void prepare_client_session(SSL* ssl, const std::string& host);

// "TLS: certificate verify failed (self-signed certificate)" and the like.
std::string describe_tls_failure(const boost::system::error_code& ec, SSL* ssl);

}  // namespace comfydist::net
