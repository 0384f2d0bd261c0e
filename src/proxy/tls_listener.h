#pragma once
// TLS termination for a Gateway's HTTPS servers (tls mode SIMPLE, MUTUAL or OPTIONAL_MUTUAL
// with a credentialName, or ISTIO_MUTUAL with the proxy's own workload certificate and the
// mesh's roots; min/maxProtocolVersion, cipherSuites, and for client certificates
// subjectAltNames and the SPKI and certificate-hash pins). One port may carry several servers with their own certificates; the
// client's SNI picks the server whose hosts match (exact, then "*.suffix", then "*"), the
// first server when there is no SNI or no match, as Envoy's filter-chain match does.
//
// The credential is a Secret in the gateway workload's namespace, in either layout Istio
// reads: kubernetes.io/tls (tls.crt, tls.key, optional ca.crt) or generic (cert, key,
// cacert); for MUTUAL and OPTIONAL_MUTUAL the CA may also come from "<name>-cacert". A Secret with a CA alone
// loads too (a DestinationRule SIMPLE rule's, upstream_tls.h); a server refuses it. Loading it is the
// caller's (the store in the gateway process, a map in tests).

#include <boost/asio/ssl/context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "weft/v1/discovery.pb.h"

namespace weft::proxy {

struct ServerCredential {
  std::string certificateChainPem;
  std::string privateKeyPem;
  std::string caCertificatesPem;  // MUTUAL, OPTIONAL_MUTUAL: the CAs a client certificate must chain to
};

// The Secret `name` in namespace `ns`, already in the layout above; an error when it does
// not exist or lacks a field.
using CredentialLoader = std::function<Result<ServerCredential>(const std::string& ns, const std::string& name)>;

// The proxy's own workload certificate, for ISTIO_MUTUAL servers: its chain and key, and
// the mesh's roots as the CA clients must chain to. nullopt until weftd has issued one.
using WorkloadCredential = std::function<std::optional<ServerCredential>()>;

// Reads either Secret layout from its `data` (base64 already decoded by the caller).
Result<ServerCredential> credentialFromSecretData(const std::function<std::optional<std::string>(const std::string& key)>& data,
                                                  const std::string& what);

class TlsListener {
 public:
  // Builds the contexts of every server; a server whose credential cannot be loaded or
  // used is an error naming it (the caller skips that server).
  static Result<std::shared_ptr<boost::asio::ssl::context>> buildContext(const weft::v1::TlsServer& server, const ServerCredential& credential);

  TlsListener() = default;
  // Every context's ClientHello callback points at this object: never copied or moved.
  TlsListener(const TlsListener&) = delete;
  TlsListener& operator=(const TlsListener&) = delete;

  void add(const weft::v1::TlsServer& server, std::shared_ptr<boost::asio::ssl::context> context);
  // Every server of `other`, after this one's.
  void append(const TlsListener& other) {
    for (const auto& e : other.servers_) add(e.spec, e.context);
  }
  bool empty() const { return servers_.empty(); }

  // The context handshakes start with: the first server's, with the SNI callback that
  // switches to the matching server's. Valid while this TlsListener lives.
  boost::asio::ssl::context& initialContext();

  // After the handshake: an error when a verifying server's client
  // certificate carries none of its subjectAltNames (when set) or matches none of its pins
  // (when set); OPTIONAL_MUTUAL without a certificate passes.
  Status checkPeer(SSL* ssl) const;

  // The server a finished handshake used, as onClientHello chose it from the SNI (its
  // certificate, ALPN, client verification and the relaying or not go together).
  const weft::v1::TlsServer* handshakeServer(SSL* ssl) const { return servers_.empty() ? nullptr : &servers_[chosenIndex(ssl)].spec; }
  // How well the best server's hosts match `sni` (host_match.h); 0 when none does (the
  // first server then takes the handshake).
  size_t matchRank(std::string_view sni) const;

 private:
  struct Entry {
    weft::v1::TlsServer spec;
    std::shared_ptr<boost::asio::ssl::context> context;
    std::string cipherList;  // the context's TLS 1.2 suites, for a handshake switched to it
  };
  // Switches a handshake to the server its SNI picks before the TLS version and cipher are
  // chosen, so each server's protocol versions, cipher suites and client verification hold.
  static int onClientHello(SSL* ssl, int* alert, void* self);
  static int serverIndexSlot();        // SSL ex_data: the chosen server's index + 1
  size_t chosenIndex(SSL* ssl) const;  // 0 (the first) when no ClientHello was seen
  size_t indexFor(std::string_view sni) const;
  std::pair<size_t, size_t> bestFor(std::string_view sni) const;  // (index, rank)

  std::vector<Entry> servers_;
};

}  // namespace weft::proxy
