#include "hbone/tls_context.h"

#include <openssl/ssl.h>

#include <cstring>

#include "tls/openssl_error.h"
#include "tls/pem.h"

namespace weft::hbone {

namespace ssl = boost::asio::ssl;

namespace {

constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};

// Server ALPN: "h2" or a fatal no_application_protocol alert. A client that sends no ALPN
// at all never reaches this callback; the server checks the negotiated protocol afterwards.
int selectH2(SSL*, const unsigned char** out, unsigned char* outLen, const unsigned char* in, unsigned int inLen,
             void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outLen, kAlpnH2, sizeof kAlpnH2, in, inLen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

Result<std::shared_ptr<ssl::context>> makeContext(const TlsCredentials& credentials, bool server) {
  auto context = std::make_shared<ssl::context>(server ? ssl::context::tls_server : ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
    return Error{"cannot restrict TLS to 1.3: " + tls::drainOpensslErrors()};
  if (SSL_CTX_set_ciphersuites(ctx, kHboneCipherSuites) != 1)
    return Error{"cannot set the TLS 1.3 cipher suites: " + tls::drainOpensslErrors()};
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

  auto chain = tls::parseCertificates(credentials.certChainPem);
  if (!chain) return chain.error().wrap("certificate chain");
  auto key = tls::parsePrivateKey(credentials.keyPem);
  if (!key) return key.error().wrap("private key");
  if (SSL_CTX_use_certificate(ctx, chain->front().get()) != 1)
    return Error{"cannot use the leaf certificate: " + tls::drainOpensslErrors()};
  for (size_t i = 1; i < chain->size(); ++i)
    if (SSL_CTX_add1_chain_cert(ctx, (*chain)[i].get()) != 1)
      return Error{"cannot add a chain certificate: " + tls::drainOpensslErrors()};
  if (SSL_CTX_use_PrivateKey(ctx, key->get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return Error{"the private key does not match the leaf certificate: " + tls::drainOpensslErrors()};

  auto roots = tls::parseCertificates(credentials.rootsPem);
  if (!roots) return roots.error().wrap("mesh roots");
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& root : *roots)
    if (X509_STORE_add_cert(store, root.get()) != 1)
      return Error{"cannot add a mesh root: " + tls::drainOpensslErrors()};

  if (server) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_alpn_select_cb(ctx, &selectH2, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_alpn_protos(ctx, kAlpnH2, sizeof kAlpnH2) != 0)  // 0 is success here
      return Error{"cannot offer ALPN h2: " + tls::drainOpensslErrors()};
  }
  return context;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> makeServerTlsContext(const TlsCredentials& credentials) {
  return makeContext(credentials, true);
}

Result<std::shared_ptr<ssl::context>> makeClientTlsContext(const TlsCredentials& credentials) {
  return makeContext(credentials, false);
}

}  // namespace weft::hbone
