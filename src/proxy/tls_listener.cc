#include "proxy/tls_listener.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/ascii.h"
#include "proxy/host_match.h"
#include "tls/openssl_error.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::proxy {

namespace ssl = boost::asio::ssl;

Result<ServerCredential> credentialFromSecretData(const std::function<std::optional<std::string>(const std::string& key)>& data,
                                                  const std::string& what) {
  ServerCredential out;
  if (auto crt = data("tls.crt")) {
    auto key = data("tls.key");
    if (!key) return makeError("{}: has tls.crt but no tls.key", what);
    out.certificateChainPem = *crt;
    out.privateKeyPem = *key;
    out.caCertificatesPem = data("ca.crt").value_or("");
  } else if (auto cert = data("cert")) {
    auto key = data("key");
    if (!key) return makeError("{}: has cert but no key", what);
    out.certificateChainPem = *cert;
    out.privateKeyPem = *key;
    out.caCertificatesPem = data("cacert").value_or("");
  } else if (auto ca = data("ca.crt") ? data("ca.crt") : data("cacert")) {
    // A CA alone: what a client verifying servers needs (DestinationRule SIMPLE). A
    // Gateway server refuses it, as its certificate chain is empty.
    out.caCertificatesPem = *ca;
  } else {
    return makeError("{}: neither tls.crt/tls.key nor cert/key nor a CA (ca.crt, cacert)", what);
  }
  return out;
}

Result<std::shared_ptr<ssl::context>> TlsListener::buildContext(const weft::v1::TlsServer& server, const ServerCredential& credential) {
  auto chain = tls::parseCertificates(credential.certificateChainPem);
  if (!chain) return chain.error().wrap("the certificate chain");
  if (chain->empty()) return makeError("the certificate chain is empty");
  auto key = tls::parsePrivateKey(credential.privateKeyPem);
  if (!key) return key.error().wrap("the private key");
  if (!tls::keyMatchesCertificate(chain->front().get(), key->get())) return makeError("the private key does not match the certificate");

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  int minVersion = server.min_protocol_version() == "TLSV1_3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx, minVersion);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  static const unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  // h2 when the client offers it (as Istio's gateways do), else http/1.1; a client that
  // offers neither gets no ALPN and speaks HTTP/1.1. A server whose bytes are relayed as
  // TCP negotiates none: what the client speaks inside is the backend's business.
  if (!server.terminate_tcp()) SSL_CTX_set_alpn_select_cb(
      ctx,
      [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen, void*) {
        unsigned char* selected = nullptr;
        if (SSL_select_next_proto(&selected, outlen, kAlpn, sizeof(kAlpn), in, inlen) != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
      },
      nullptr);
  if (SSL_CTX_use_certificate(ctx, chain->front().get()) != 1 || SSL_CTX_use_PrivateKey(ctx, key->get()) != 1) {
    return makeError("the certificate or key is not usable: {}", tls::drainOpensslErrors());
  }
  for (size_t i = 1; i < chain->size(); ++i) {
    X509* extra = (*chain)[i].get();
    X509_up_ref(extra);
    if (SSL_CTX_add1_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      return makeError("the chain certificate {} is not usable: {}", i, tls::drainOpensslErrors());
    }
    X509_free(extra);  // add1 took its own reference
  }
  if (server.mode() == weft::v1::TlsServer::MUTUAL) {
    if (credential.caCertificatesPem.empty()) return makeError("MUTUAL needs CA certificates (ca.crt, cacert or a -cacert Secret)");
    auto cas = tls::parseCertificates(credential.caCertificatesPem);
    if (!cas) return cas.error().wrap("the CA certificates");
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const auto& ca : *cas) {
      if (X509_STORE_add_cert(store, ca.get()) != 1) return makeError("the CA certificate is not usable: {}", tls::drainOpensslErrors());
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_verify_depth(ctx, 8);
  }
  return context;
}

void TlsListener::add(const weft::v1::TlsServer& server, std::shared_ptr<ssl::context> context) {
  servers_.push_back({server, std::move(context)});
  if (servers_.size() == 1) {
    SSL_CTX* first = servers_.front().context->native_handle();
    SSL_CTX_set_tlsext_servername_callback(first, &TlsListener::onServerName);
    SSL_CTX_set_tlsext_servername_arg(first, this);
  }
}

ssl::context& TlsListener::initialContext() { return *servers_.front().context; }

std::pair<size_t, size_t> TlsListener::bestFor(std::string_view sni) const {
  std::string host = asciiLower(sni);
  size_t index = 0, bestRank = kNoHostMatch;
  for (size_t i = 0; i < servers_.size(); ++i) {
    for (const auto& h : servers_[i].spec.hosts()) {
      size_t rank = hostMatchRank(asciiLower(h), host);
      if (rank > bestRank) {
        index = i;
        bestRank = rank;
      }
    }
  }
  return {index, bestRank};
}

size_t TlsListener::indexFor(std::string_view sni) const { return bestFor(sni).first; }

size_t TlsListener::matchRank(std::string_view sni) const { return bestFor(sni).second; }

const weft::v1::TlsServer* TlsListener::serverFor(std::string_view sni) const {
  return servers_.empty() ? nullptr : &servers_[indexFor(sni)].spec;
}

int TlsListener::onServerName(SSL* ssl, int*, void* self) {
  const auto* listener = static_cast<const TlsListener*>(self);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  size_t index = name == nullptr ? 0 : listener->indexFor(name);
  if (index != 0) {
    SSL_CTX* chosen = listener->servers_[index].context->native_handle();
    SSL_set_SSL_CTX(ssl, chosen);
    // SSL_set_SSL_CTX swaps the certificate only; verification follows the chosen server.
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(chosen), nullptr);
    SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(chosen));
  }
  return SSL_TLSEXT_ERR_OK;
}

Status TlsListener::checkPeer(SSL* ssl) const {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const auto& spec = servers_[name == nullptr ? 0 : indexFor(name)].spec;
  if (spec.mode() != weft::v1::TlsServer::MUTUAL || spec.subject_alt_names().empty()) return {};
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return makeError("no client certificate");
  std::vector<std::string> sans = tls::dnsSans(peer);
  for (auto& uri : tls::uriSans(peer)) sans.push_back(std::move(uri));
  for (const auto& wanted : spec.subject_alt_names()) {
    if (std::find(sans.begin(), sans.end(), wanted) != sans.end()) return {};
  }
  return makeError("the client certificate carries none of the subjectAltNames the server requires");
}

}  // namespace weft::proxy
