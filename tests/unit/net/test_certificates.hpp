// Test helper: a throw-away certificate authority and server certificates written as PEM files
// into a temporary folder, made with OpenSSL's C API (no `openssl` binary needed).
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace comfydist::net::testing {

struct pem_files {
  std::filesystem::path certificate;
  std::filesystem::path key;
};

class test_pki {
 public:
  test_pki() : dir_(make_dir()), ca_key_(make_key()), ca_cert_(make_certificate(true, "")) {
    ca_file_ = dir_ / "ca.pem";
    write_certificate(ca_cert_.get(), ca_file_);
  }
  ~test_pki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  const std::filesystem::path& ca_file() const { return ca_file_; }
  const std::filesystem::path& dir() const { return dir_; }

  // A server certificate signed by this CA; `subject_alt_names` in OpenSSL's config syntax, e.g.
  // "DNS:localhost,IP:127.0.0.1".
  pem_files issue(const std::string& name, const std::string& subject_alt_names) {
    const key_ptr key = make_key();
    const cert_ptr cert = make_certificate(false, subject_alt_names, key.get());
    pem_files files{dir_ / (name + ".crt"), dir_ / (name + ".key")};
    write_certificate(cert.get(), files.certificate);
    std::unique_ptr<FILE, decltype(&std::fclose)> out(std::fopen(files.key.c_str(), "w"),
                                                      &std::fclose);
    if (!out ||
        PEM_write_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      throw std::runtime_error("cannot write " + files.key.string());
    }
    return files;
  }

 private:
  using key_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  using cert_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

  static std::filesystem::path make_dir() {
    static std::atomic<int> counter{0};
    auto dir = std::filesystem::temp_directory_path() /
               ("comfydist_pki_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    return dir;
  }

  static key_ptr make_key() {
    key_ptr key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    if (!key) {
      throw std::runtime_error("EC key generation failed");
    }
    return key;
  }

  static void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
    if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) {
      X509_EXTENSION_free(ext);
      throw std::runtime_error("cannot add certificate extension " + value);
    }
    X509_EXTENSION_free(ext);
  }

  // The CA when `ca` (self-signed with ca_key_), else a server certificate for `key`.
  cert_ptr make_certificate(bool ca, const std::string& subject_alt_names,
                            EVP_PKEY* key = nullptr) {
    static std::atomic<long> serial{1};
    cert_ptr cert(X509_new(), &X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), ca ? ca_key_.get() : key);
    X509_NAME* subject = X509_get_subject_name(cert.get());
    const std::string common_name = ca ? "comfydist test CA" : "comfydist test server";
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), ca ? subject : X509_get_subject_name(ca_cert_.get()));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, ca ? cert.get() : ca_cert_.get(), cert.get(), nullptr, nullptr, 0);
    add_extension(cert.get(), &ctx, NID_basic_constraints,
                  ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_extension(cert.get(), &ctx, NID_key_usage,
                  ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    if (!ca) {
      add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
      add_extension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth");
      add_extension(cert.get(), &ctx, NID_subject_alt_name, subject_alt_names);
    }
    if (X509_sign(cert.get(), ca_key_.get(), EVP_sha256()) == 0) {
      throw std::runtime_error("certificate signing failed");
    }
    return cert;
  }

  static void write_certificate(X509* cert, const std::filesystem::path& path) {
    std::unique_ptr<FILE, decltype(&std::fclose)> out(std::fopen(path.c_str(), "w"), &std::fclose);
    if (!out || PEM_write_X509(out.get(), cert) != 1) {
      throw std::runtime_error("cannot write " + path.string());
    }
  }

  std::filesystem::path dir_;
  key_ptr ca_key_;
  cert_ptr ca_cert_;
  std::filesystem::path ca_file_;
};

}  // namespace comfydist::net::testing
