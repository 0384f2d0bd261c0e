#include "proxy/upstream_tls.h"

#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <functional>

#include "base/ascii.h"
#include "base/file_io.h"
#include "tls/openssl_error.h"
#include "tls/openssl_types.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::proxy {

namespace ssl = boost::asio::ssl;

namespace {

constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

Result<std::string> readNamed(const std::string& path, const char* field) {
  if (path.empty()) return std::string();
  auto text = readFile(path);
  if (!text) return text.error().wrap(fmt::format("tls.{} {}", field, path));
  return text;
}

bool isIpLiteral(std::string_view host) {
  if (host.starts_with('[')) return true;
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

Status addCrls(X509_STORE* store, const std::string& pem) {
  tls::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  size_t added = 0;
  while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    int ok = X509_STORE_add_crl(store, crl);
    X509_CRL_free(crl);  // the store took its own reference
    if (ok != 1) return makeError("the CRL is not usable: {}", tls::drainOpensslErrors());
    ++added;
  }
  tls::drainOpensslErrors();  // the end of the text reads as an error
  if (added == 0) return makeError("tls.caCrl holds no PEM CRL");
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return {};
}

Status useClientCertificate(SSL_CTX* ctx, const UpstreamTlsMaterial& material) {
  auto chain = tls::parseCertificates(material.certificateChainPem);
  if (!chain) return chain.error().wrap("the client certificate");
  if (chain->empty()) return makeError("the client certificate is empty");
  auto key = tls::parsePrivateKey(material.privateKeyPem);
  if (!key) return key.error().wrap("the client private key");
  if (!tls::keyMatchesCertificate(chain->front().get(), key->get())) return makeError("the client private key does not match its certificate");
  if (SSL_CTX_use_certificate(ctx, chain->front().get()) != 1 || SSL_CTX_use_PrivateKey(ctx, key->get()) != 1) {
    return makeError("the client certificate or key is not usable: {}", tls::drainOpensslErrors());
  }
  for (size_t i = 1; i < chain->size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, (*chain)[i].get()) != 1) {
      return makeError("the client chain certificate {} is not usable: {}", i, tls::drainOpensslErrors());
    }
  }
  return {};
}

Status useTrust(SSL_CTX* ctx, const weft::v1::UpstreamTls& spec, const UpstreamTlsMaterial& material) {
  if (spec.insecure_skip_verify()) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return {};
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  if (material.caCertificatesPem.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) return makeError("the system's trust store: {}", tls::drainOpensslErrors());
  } else {
    auto cas = tls::parseCertificates(material.caCertificatesPem);
    if (!cas) return cas.error().wrap("the CA certificates");
    if (cas->empty()) return makeError("the CA certificates are empty");
    for (const auto& ca : *cas) {
      if (X509_STORE_add_cert(store, ca.get()) != 1) return makeError("the CA certificate is not usable: {}", tls::drainOpensslErrors());
    }
  }
  if (!material.crlPem.empty()) {
    if (auto added = addCrls(store, material.crlPem); !added) return added;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_verify_depth(ctx, 8);
  return {};
}

}  // namespace

Result<UpstreamTlsMaterial> loadUpstreamTlsMaterial(const weft::v1::UpstreamTls& spec, const CredentialLoader& credentials,
                                                    const std::string& proxyNamespace) {
  UpstreamTlsMaterial material;
  if (!spec.credential_name().empty()) {
    if (!credentials) return makeError("tls.credentialName {}: this proxy reads no Secrets", spec.credential_name());
    auto credential = credentials(proxyNamespace, spec.credential_name());
    if (!credential) return credential.error().wrap("tls.credentialName");
    material.certificateChainPem = credential->certificateChainPem;
    material.privateKeyPem = credential->privateKeyPem;
    material.caCertificatesPem = credential->caCertificatesPem;
    if (material.caCertificatesPem.empty()) {
      // Istio also takes the CA from a separate "<name>-cacert" Secret.
      if (auto separate = credentials(proxyNamespace, spec.credential_name() + "-cacert")) {
        material.caCertificatesPem = !separate->caCertificatesPem.empty() ? separate->caCertificatesPem : separate->certificateChainPem;
      }
    }
  } else {
    auto cert = readNamed(spec.client_certificate(), "clientCertificate");
    auto key = readNamed(spec.private_key(), "privateKey");
    auto ca = readNamed(spec.ca_certificates(), "caCertificates");
    auto crl = readNamed(spec.ca_crl(), "caCrl");
    for (const auto* read : {&cert, &key, &ca, &crl}) {
      if (!*read) return read->error();
    }
    material = {std::move(*ca), std::move(*cert), std::move(*key), std::move(*crl)};
  }
  if (spec.mode() == weft::v1::UpstreamTls::MUTUAL && (material.certificateChainPem.empty() || material.privateKeyPem.empty())) {
    return makeError("tls mode MUTUAL needs a client certificate and key");
  }
  return material;
}

Result<std::shared_ptr<const UpstreamTls>> UpstreamTls::make(const weft::v1::UpstreamTls& spec, const UpstreamTlsMaterial& material) {
  auto made = std::make_shared<UpstreamTls>();
  made->spec_ = spec;
  made->context_ = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* ctx = made->context_->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  if (auto trusted = useTrust(ctx, spec, material); !trusted) return trusted.error();
  bool presents = spec.mode() == weft::v1::UpstreamTls::MUTUAL || spec.mode() == weft::v1::UpstreamTls::ISTIO_MUTUAL;
  if (presents) {
    if (auto used = useClientCertificate(ctx, material); !used) return used.error();
  }
  // Equal rules over equal certificates share pooled connections; anything else does not.
  std::string identity = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", static_cast<int>(spec.mode()), spec.insecure_skip_verify(),
                                     fmt::join(spec.subject_alt_names(), ","), spec.sni(), material.caCertificatesPem,
                                     material.certificateChainPem, material.privateKeyPem, material.crlPem);
  made->id_ = fmt::format("{:016x}", std::hash<std::string>{}(identity));
  return std::shared_ptr<const UpstreamTls>(std::move(made));
}

std::string UpstreamTls::sniFor(std::string_view hostHeader) const {
  if (!spec_.sni().empty()) return spec_.sni();
  std::string_view host = hostHeader;
  if (!host.starts_with('[')) {
    auto colon = host.rfind(':');
    if (colon != std::string_view::npos) host = host.substr(0, colon);
  }
  if (isIpLiteral(host)) return "";
  return asciiLower(host);
}

Status UpstreamTls::prepare(SSL* ssl, const std::string& sni, bool http2) const {
  if (!sni.empty() && SSL_set_tlsext_host_name(ssl, sni.c_str()) != 1) {
    return makeError("SNI {}: {}", sni, tls::drainOpensslErrors());
  }
  // 0 is success here.
  int alpn = http2 ? SSL_set_alpn_protos(ssl, kAlpnH2, sizeof kAlpnH2) : SSL_set_alpn_protos(ssl, kAlpnHttp11, sizeof kAlpnHttp11);
  if (alpn != 0) return makeError("ALPN: {}", tls::drainOpensslErrors());
  // With no subjectAltNames the name checked is the SNI (checkPeer() handles the list).
  if (!spec_.insecure_skip_verify() && spec_.subject_alt_names().empty() && !sni.empty() &&
      spec_.mode() != weft::v1::UpstreamTls::ISTIO_MUTUAL) {
    if (SSL_set1_host(ssl, sni.c_str()) != 1) return makeError("verify name {}: {}", sni, tls::drainOpensslErrors());
  }
  return {};
}

Status UpstreamTls::checkPeer(SSL* ssl) const {
  if (spec_.insecure_skip_verify() || spec_.subject_alt_names().empty()) return {};
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return makeError("the server sent no certificate");
  std::vector<std::string> sans = tls::dnsSans(peer);
  for (auto& uri : tls::uriSans(peer)) sans.push_back(std::move(uri));
  for (const auto& wanted : spec_.subject_alt_names()) {
    if (std::find(sans.begin(), sans.end(), wanted) != sans.end()) return {};
  }
  return makeError("the server certificate carries none of the subjectAltNames ({})", fmt::join(spec_.subject_alt_names(), ", "));
}

std::string UpstreamTls::poolKey(const std::string& endpoint, const std::string& sni, bool http2) const {
  return fmt::format("{} tls {} sni {}{}", endpoint, id_, sni, http2 ? " h2" : "");
}

std::string describeHandshakeFailure(SSL* ssl, const boost::system::error_code& error) {
  long verdict = SSL_get_verify_result(ssl);
  if (verdict != X509_V_OK) return fmt::format("certificate verify failed: {}", X509_verify_cert_error_string(verdict));
  return error.message();
}

}  // namespace weft::proxy
