#include "proxy/tls_listener.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <cstdint>

#include "base/ascii.h"
#include "base/base64.h"
#include "proxy/host_match.h"
#include "tls/openssl_error.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::proxy {

namespace ssl = boost::asio::ssl;

namespace {

// Istio's TLS version names; nullopt for TLS_AUTO or none (the caller's default).
std::optional<int> protocolVersion(const std::string& name) {
  if (name == "TLSV1_0") return TLS1_VERSION;
  if (name == "TLSV1_1") return TLS1_1_VERSION;
  if (name == "TLSV1_2") return TLS1_2_VERSION;
  if (name == "TLSV1_3") return TLS1_3_VERSION;
  return std::nullopt;
}

// The TLS 1.2-and-older suites of a context's cipher list, joined with ':' (TLS 1.3's are
// configured apart and listed with them).
std::string tls12CipherNames(SSL_CTX* ctx) {
  std::string out;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; ciphers != nullptr && i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    if (std::string_view(SSL_CIPHER_get_version(cipher)) == "TLSv1.3") continue;
    out += (out.empty() ? "" : ":") + std::string(SSL_CIPHER_get_name(cipher));
  }
  return out;
}

// Whether `name` is one cipher suite's name, not a rule OpenSSL expands ("HIGH", "AES",
// "DEFAULT" set several; Istio accepts suite names only).
bool isOneCipherSuite(SSL_CTX* probe, const std::string& name) {
  if (name.empty() || name.find_first_of(":, !+@") != std::string::npos) return false;
  if (SSL_CTX_set_cipher_list(probe, name.c_str()) != 1) return false;
  return tls12CipherNames(probe) == name;
}

// The suites OpenSSL has, as one cipher list, and the names it does not have (Istio drops
// cipher suites Envoy does not know, with a warning; OpenSSL would skip them silently).
std::pair<std::string, std::vector<std::string>> cipherList(const google::protobuf::RepeatedPtrField<std::string>& suites) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> probe(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  std::string list;
  std::vector<std::string> unknown;
  for (const auto& suite : suites) {
    if (!isOneCipherSuite(probe.get(), suite)) {
      tls::drainOpensslErrors();
      unknown.push_back(suite);
      continue;
    }
    list += (list.empty() ? "" : ":") + suite;
  }
  return {list, unknown};
}

// The host name of a ClientHello's server_name extension; "" when there is none or it is
// malformed (OpenSSL refuses a malformed one itself when it parses the extensions).
std::string serverNameOf(SSL* ssl) {
  const unsigned char* p = nullptr;
  size_t length = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &length) != 1 || length < 2) return "";
  size_t listLength = (size_t{p[0]} << 8) | p[1];
  if (listLength != length - 2) return "";
  for (size_t at = 2; at + 3 <= length;) {
    unsigned type = p[at];
    size_t nameLength = (size_t{p[at + 1]} << 8) | p[at + 2];
    at += 3;
    if (at + nameLength > length) return "";
    if (type == TLSEXT_NAMETYPE_host_name) return std::string(reinterpret_cast<const char*>(p + at), nameLength);
    at += nameLength;
  }
  return "";
}

int acknowledgeServerName(SSL*, int*, void*) { return SSL_TLSEXT_ERR_OK; }

// SHA-256 of DER bytes i2d_* allocated (freed here); "" when encoding failed.
std::string sha256OfDer(unsigned char* der, int length) {
  if (length <= 0 || der == nullptr) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  int ok = EVP_Digest(der, static_cast<size_t>(length), digest, &size, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  return ok == 1 ? std::string(reinterpret_cast<const char*>(digest), size) : "";
}

// Whether `peer` matches one of the server's SPKI or certificate pins (Envoy's
// verify_certificate_spki / verify_certificate_hash: either list may match).
bool matchesPins(X509* peer, const weft::v1::TlsServer& spec) {
  unsigned char* der = nullptr;
  int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(peer), &der);
  std::string spki = sha256OfDer(der, length);
  if (spki.empty()) return false;  // never matched by an empty pin
  spki = base64Encode(spki);
  for (const auto& pin : spec.verify_certificate_spki()) {
    if (pin == spki) return true;
  }
  der = nullptr;
  length = i2d_X509(peer, &der);
  std::string certificate = sha256OfDer(der, length);
  if (certificate.empty()) return false;
  std::string hex;
  for (unsigned char c : certificate) hex += fmt::format("{:02x}", c);
  for (const auto& pin : spec.verify_certificate_hash()) {
    std::string written = pin;
    written.erase(std::remove(written.begin(), written.end(), ':'), written.end());
    if (asciiLower(written) == hex) return true;
  }
  return false;
}

}  // namespace

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
  // TLS_AUTO: at least 1.2 (Istio's gateway default), at most the newest.
  int minVersion = protocolVersion(server.min_protocol_version()).value_or(TLS1_2_VERSION);
  int maxVersion = protocolVersion(server.max_protocol_version()).value_or(TLS1_3_VERSION);
  if (maxVersion < minVersion) {
    return makeError("maxProtocolVersion {} is below minProtocolVersion {}", server.max_protocol_version(), server.min_protocol_version());
  }
  SSL_CTX_set_min_proto_version(ctx, minVersion);
  SSL_CTX_set_max_proto_version(ctx, maxVersion);
  // A session resumes only on the server that made it: one made without a client
  // certificate must not resume on a server that verifies them, nor one server's on
  // another's settings. The id is the server's whole spec, hashed.
  std::string spec = server.SerializeAsString();
  unsigned char id[EVP_MAX_MD_SIZE];
  unsigned int idLength = 0;
  EVP_Digest(spec.data(), spec.size(), id, &idLength, EVP_sha256(), nullptr);
  SSL_CTX_set_session_id_context(ctx, id, std::min<unsigned int>(idLength, SSL_MAX_SID_CTX_LENGTH));
  // Acknowledging the SNI keeps it in the session, so SSL_get_servername answers on a
  // resumed TLS 1.2 connection too (the server itself is chosen in onClientHello).
  SSL_CTX_set_tlsext_servername_callback(ctx, &acknowledgeServerName);
  // None known: OpenSSL's defaults (the system's CipherString), as Envoy keeps its own when
  // Istio dropped every suite.
  auto [list, unknown] = cipherList(server.cipher_suites());
  for (const auto& name : unknown) spdlog::warn("gateway: cipherSuites: {:?} is not a cipher suite this proxy has: ignored", name);
  if (!list.empty() && SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1) return makeError("cipherSuites: {}", tls::drainOpensslErrors());
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
  if (server.mode() != weft::v1::TlsServer::SIMPLE) {
    if (credential.caCertificatesPem.empty()) {
      return makeError("{} needs CA certificates (ca.crt, cacert or a -cacert Secret)", weft::v1::TlsServer::Mode_Name(server.mode()));
    }
    auto cas = tls::parseCertificates(credential.caCertificatesPem);
    if (!cas) return cas.error().wrap("the CA certificates");
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const auto& ca : *cas) {
      if (X509_STORE_add_cert(store, ca.get()) != 1) return makeError("the CA certificate is not usable: {}", tls::drainOpensslErrors());
    }
    // OPTIONAL_MUTUAL asks for a certificate and checks one that comes; none is fine.
    bool required = server.mode() != weft::v1::TlsServer::OPTIONAL_MUTUAL;
    SSL_CTX_set_verify(ctx, required ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_verify_depth(ctx, 8);
  }
  return context;
}

void TlsListener::add(const weft::v1::TlsServer& server, std::shared_ptr<ssl::context> context) {
  SSL_CTX* ctx = context->native_handle();
  servers_.push_back({server, std::move(context), tls12CipherNames(ctx)});
  // Every context points here, not only the first: after a HelloRetryRequest OpenSSL calls
  // the callback of the context the first ClientHello switched to, and a context appended
  // from another listener (two Gateways on one port) must not point at that one.
  SSL_CTX_set_client_hello_cb(ctx, &TlsListener::onClientHello, this);
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


int TlsListener::serverIndexSlot() {
  static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

size_t TlsListener::chosenIndex(SSL* ssl) const {
  auto stored = reinterpret_cast<uintptr_t>(SSL_get_ex_data(ssl, serverIndexSlot()));
  return stored == 0 || stored > servers_.size() ? 0 : stored - 1;
}

int TlsListener::onClientHello(SSL* ssl, int* alert, void* self) {
  const auto* listener = static_cast<const TlsListener*>(self);
  std::string name = serverNameOf(ssl);
  size_t index = name.empty() ? 0 : listener->indexFor(name);
  // What checkPeer and handshakeServer read: the one choice, whatever the session says later.
  SSL_set_ex_data(ssl, serverIndexSlot(), reinterpret_cast<void*>(static_cast<uintptr_t>(index + 1)));
  const Entry& entry = listener->servers_[index];
  SSL_CTX* chosen = entry.context->native_handle();
  if (SSL_get_SSL_CTX(ssl) == chosen) return SSL_CLIENT_HELLO_SUCCESS;
  // SSL_set_SSL_CTX swaps the certificate and session id context only: the rest follows
  // the chosen server here.
  bool switched = SSL_set_SSL_CTX(ssl, chosen) != nullptr;
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(chosen), nullptr);
  SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(chosen));
  switched = switched && SSL_set_min_proto_version(ssl, static_cast<int>(SSL_CTX_get_min_proto_version(chosen))) == 1 &&
             SSL_set_max_proto_version(ssl, static_cast<int>(SSL_CTX_get_max_proto_version(chosen))) == 1 &&
             SSL_set_cipher_list(ssl, entry.cipherList.c_str()) == 1;
  if (!switched) {
    tls::drainOpensslErrors();
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

Status TlsListener::checkPeer(SSL* ssl) const {
  const auto& spec = servers_[chosenIndex(ssl)].spec;
  if (spec.mode() == weft::v1::TlsServer::SIMPLE) return {};
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) {
    // MUTUAL's handshake already failed without one.
    return spec.mode() == weft::v1::TlsServer::OPTIONAL_MUTUAL ? Status() : makeError("no client certificate");
  }
  if (!spec.subject_alt_names().empty()) {
    std::vector<std::string> sans = tls::dnsSans(peer);
    for (auto& uri : tls::uriSans(peer)) sans.push_back(std::move(uri));
    bool named = std::any_of(spec.subject_alt_names().begin(), spec.subject_alt_names().end(),
                             [&](const std::string& wanted) { return std::find(sans.begin(), sans.end(), wanted) != sans.end(); });
    if (!named) return makeError("the client certificate carries none of the subjectAltNames the server requires");
  }
  if (!spec.verify_certificate_spki().empty() || !spec.verify_certificate_hash().empty()) {
    if (!matchesPins(peer, spec)) return makeError("the client certificate matches none of verifyCertificateSpki and verifyCertificateHash");
  }
  return {};
}

}  // namespace weft::proxy
