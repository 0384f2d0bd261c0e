#pragma once
// A real ClientHello for tests: what an OpenSSL client sends first, taken from a memory BIO.

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace weft::proxy::testing {

// The ClientHello a real OpenSSL client sends (ALPN h2 and http/1.1), with `sni` unless it
// is empty.
inline std::string realClientHello(const std::string& sni) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);  // owned by the SSL from here
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
  static const unsigned char alpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_set_alpn_protos(ssl.get(), alpn, sizeof alpn);
  EXPECT_LE(SSL_connect(ssl.get()), 0);  // wants the server's answer
  char* data = nullptr;
  long length = BIO_get_mem_data(out, &data);
  return std::string(data, static_cast<size_t>(length));
}

}  // namespace weft::proxy::testing
