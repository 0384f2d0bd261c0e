#pragma once
// TLS the proxy originates to a cluster's endpoints (DestinationRule trafficPolicy.tls), as
// Envoy's upstream TLS context does for Istio's gateways and waypoints:
//  - SIMPLE verifies the server: against caCertificates (a file), the credentialName
//    Secret's CA, or the system's trust store when neither is given; the name checked is a
//    subjectAltNames entry (DNS or URI, exact), else the SNI sent (host name rules, so
//    wildcards). insecureSkipVerify turns all of that off.
//  - MUTUAL also presents a client certificate (clientCertificate/privateKey files, or the
//    credentialName Secret's).
//  - ISTIO_MUTUAL presents the proxy's own workload certificate and trusts the mesh roots.
//    Mesh endpoints never get here: they are reached over HBONE whatever the rule says.
// The SNI is the rule's `sni`, else the request's host (Envoy's auto SNI, which Istio turns
// on), never an IP literal. The ALPN offered follows the protocol chosen for the request:
// "h2" for HTTP/2, "http/1.1" otherwise; a server that picks none is spoken to in that
// protocol anyway.
//
// Nothing here falls back to plaintext: a rule whose certificates cannot be loaded makes
// requests to its cluster fail (503 UF) until it can.

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "proxy/tls_listener.h"
#include "weft/v1/discovery.pb.h"

namespace weft::proxy {

// The PEM text a rule's context is made of.
struct UpstreamTlsMaterial {
  std::string caCertificatesPem;    // empty: the system's trust store (ISTIO_MUTUAL: the mesh roots)
  std::string certificateChainPem;  // MUTUAL and ISTIO_MUTUAL: leaf first
  std::string privateKeyPem;
  std::string crlPem;               // caCrl: revoked server certificates
};

// Reads what a SIMPLE or MUTUAL rule names: its files, or its credentialName Secret in
// `proxyNamespace` (either layout; a SIMPLE rule's Secret may hold only a CA, and a
// "<name>-cacert" Secret supplies the CA as for Gateways).
Result<UpstreamTlsMaterial> loadUpstreamTlsMaterial(const weft::v1::UpstreamTls& spec, const CredentialLoader& credentials,
                                                    const std::string& proxyNamespace);

class UpstreamTls {
 public:
  static Result<std::shared_ptr<const UpstreamTls>> make(const weft::v1::UpstreamTls& spec, const UpstreamTlsMaterial& material);

  weft::v1::UpstreamTls::Mode mode() const { return spec_.mode(); }
  boost::asio::ssl::context& context() const { return *context_; }

  // The SNI for a request to `hostHeader` ("" when none is to be sent).
  std::string sniFor(std::string_view hostHeader) const;
  // One connection's SSL before its handshake: SNI, ALPN and the name to verify.
  Status prepare(SSL* ssl, const std::string& sni, bool http2) const;
  // After the handshake: the server certificate carries one of subjectAltNames.
  Status checkPeer(SSL* ssl) const;
  // Pool keys: connections made with different settings or SNI are never shared.
  std::string poolKey(const std::string& endpoint, const std::string& sni, bool http2) const;

 private:
  weft::v1::UpstreamTls spec_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::string id_;  // distinguishes rules, for pool keys
};

// Why a client handshake failed, for logs and the 503's body: the certificate check's
// verdict when that was it ("certificate has expired"), else the TLS error.
std::string describeHandshakeFailure(SSL* ssl, const boost::system::error_code& error);

}  // namespace weft::proxy
