#pragma once
// The gateway's routing snapshot: the Listeners that select this pod, their
// RouteConfigurations merged per port, and the Clusters, with every regex compiled once.
// Immutable once built and shared by pointer (a request pins the snapshot it started
// with); building it is the validation step, so config that fails here is NACKed and the
// previous snapshot stays.
//
// Matching is pure (no I/O): host -> virtual host, request -> first matching route.

#include <re2/re2.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "proxy/dns_names.h"
#include "proxy/http_authorization.h"
#include "proxy/tls_listener.h"
#include "proxy/rate_limit_config.h"
#include "proxy/request_authentication.h"
#include "proxy/upstream_tls.h"
#include "xds/delta_client.h"

namespace weft::proxy {

inline constexpr const char* kListenerType = "weft.v1.Listener";
inline constexpr const char* kRouteConfigurationType = "weft.v1.RouteConfiguration";
inline constexpr const char* kClusterType = "weft.v1.Cluster";
inline constexpr const char* kMeshConfigType = "weft.v1.MeshConfig";

using Labels = std::map<std::string, std::string>;

struct CompiledMatch {
  enum class Kind { kAny, kExact, kPrefix, kRegex };
  Kind kind = Kind::kAny;
  std::string value;
  std::shared_ptr<const RE2> regex;
  bool matches(std::string_view text, bool ignoreCase = false) const;
};

struct CompiledRoute {
  weft::v1::Route spec;
  std::string gateway;  // "<ns>/<name>" of the Gateway whose listener sent it (rate limits)
  CompiledMatch path;
  CompiledMatch method, authority, scheme;
  std::vector<std::pair<std::string, CompiledMatch>> headers;         // lower-case name -> match
  std::vector<std::pair<std::string, CompiledMatch>> withoutHeaders;  // none may match
  // "@request.auth.claims..." header matches: the verified JWT's claim ("[a][b]" path).
  std::vector<std::pair<std::string, CompiledMatch>> claims;         // each must match
  std::vector<std::pair<std::string, CompiledMatch>> withoutClaims;  // none may match
  std::vector<std::pair<std::string, CompiledMatch>> queryParams;
  std::vector<CompiledMatch> corsOrigins;
  std::shared_ptr<const RE2> rewriteRegex;  // rewrite.uriRegexRewrite's pattern, when set
  uint32_t totalWeight = 0;
};

struct CompiledVirtualHost {
  std::string name;
  std::string gateway;  // "<ns>/<name>" of the Gateway that first claimed its domains on the port
  std::vector<std::string> domains;  // lower case
  std::vector<CompiledRoute> routes;
  bool requireTls = false;  // Gateway tls.httpsRedirect: plaintext requests get a 301 to https
};

// A VirtualService tls[] or tcp[] rule of a listener: connections relayed as bytes.
struct CompiledTcpRoute {
  weft::v1::TcpRoute spec;
  std::vector<std::string> sniHosts;  // lower case; empty for a tcp[] rule
  uint32_t totalWeight = 0;
};

CompiledTcpRoute compileTcpRoute(const weft::v1::TcpRoute& spec);

struct PortRoutes {
  // kTls: HTTPS and TLS listeners (terminated by `tls`, or passed through by SNI to
  // `tcpRoutes`, or both); kTcp: every connection to the first of `tcpRoutes`.
  enum class Kind { kHttp, kTls, kTcp };
  Kind kind = Kind::kHttp;
  uint32_t port = 0;  // the port bound (the Listener's bind_port)
  std::vector<std::string> listeners;
  std::vector<CompiledVirtualHost> virtualHosts;
  std::shared_ptr<TlsListener> tls;  // HTTPS servers that terminate TLS, if any
  std::vector<CompiledTcpRoute> tcpRoutes;
};

// A Service port served at a waypoint (a Listener carrying waypoint_authorities): a
// request reaches it through an HBONE CONNECT whose authority is one of the Service's
// "VIP:port", not through a bound port.
struct WaypointTarget {
  // kHttp: requests routed by `virtualHosts`; kTcp: every connection relayed as bytes by
  // `tcpRoutes` (waypointTcpRoute: by the ClientHello's SNI when tls[] routes are among
  // them, else the first for any name); kDetect (a port with no declared protocol): HTTP when the
  // tunnel's first bytes are an HTTP/1.1 request line or the HTTP/2 preface, else kTcp's.
  enum class Kind { kHttp, kTcp, kDetect };
  Kind kind = Kind::kHttp;
  std::string listener;
  std::string gateway;  // the waypoint, "<ns>/<name>"
  std::string service;  // the Service's hostname
  uint32_t port = 0;    // the Service port
  std::vector<CompiledVirtualHost> virtualHosts;
  std::vector<CompiledTcpRoute> tcpRoutes;
  HttpAuthorizer authorizer;  // the policies attached by targetRefs to the waypoint or the Service
  JwtAuthenticator authenticator;  // the RequestAuthentications attached the same way
};

// What a request needs to be matched: the header lookup is the caller's (a Beast message in
// the server, a map in tests).
struct RequestView {
  std::string_view host;    // the Host header as sent
  std::string_view target;  // path and query
  std::function<std::optional<std::string_view>(std::string_view lowerName)> header;
  std::string_view method = "GET";
  std::string_view scheme = "http";
  const VerifiedJwt* jwt = nullptr;  // the token RequestAuthentication verified, if any
};

// "@request.auth.claims.a.b" or "@request.auth.claims[a][b]" as the claim path "[a][b]";
// nullopt when `name` does not name a claim.
std::optional<std::string> jwtClaimPath(std::string_view name);

// A cluster's client TLS (DestinationRule tls SIMPLE or MUTUAL), built with the snapshot;
// `error` set instead when its certificates cannot be loaded, and its requests then fail
// (503 UF), never in plaintext.
struct ClusterTls {
  std::shared_ptr<const UpstreamTls> tls;
  std::string error;
};

// Shared (std::enable_shared_from_this) so that what is cached against one of its messages
// can keep that snapshot, and so the message's address, alive.
class ProxyConfig : public std::enable_shared_from_this<ProxyConfig> {
 public:
  // Listeners whose selector matches `podLabels`. An HTTPS server whose credential cannot
  // be loaded (no loader, a missing Secret, a key that does not match) is skipped and
  // listed in skipped(), as Envoy leaves out a filter chain whose secret is not ready; an
  // HTTPS listener with no server left is not bound.
  // `podNamespace` decides which AuthorizationPolicies apply (with the labels).
  // Waypoint listeners (waypoint_authorities set) are never bound to a port: those whose
  // selector matches and whose waypoint is in `podNamespace` become waypointTarget()s.
  // `resolved`: the addresses of DNS clusters' host names (dns_names.h), added to their
  // endpoints; a name missing there adds none. `workload`: the proxy's own certificate for
  // ISTIO_MUTUAL servers, left out while it has none; their port is kept all the same
  // (with no server, its connections are closed) so that the build the certificate
  // brings needs no new port bound.
  static Result<std::shared_ptr<const ProxyConfig>> build(const xds::HeldResources& held, const Labels& podLabels,
                                                          const CredentialLoader& credentials = nullptr,
                                                          const std::string& podNamespace = "istio-system",
                                                          const ResolvedNames& resolved = {}, const WorkloadCredential& workload = nullptr);
  static std::shared_ptr<const ProxyConfig> empty();

  const std::map<uint32_t, PortRoutes>& ports() const { return ports_; }
  // MeshConfig accessLogFile and accessLogEncoding: off unless a file is named (Istio's
  // default); any file means the proxy's stdout, which the runtime keeps as the pod log.
  enum class AccessLog { kOff, kText, kJson };
  AccessLog accessLog() const { return accessLog_; }
  const HttpAuthorizer& authorizer() const { return authorizer_; }
  // RequestAuthentication for the gateway's own pod (a waypoint's are its targets').
  const JwtAuthenticator& authenticator() const { return authenticator_; }
  const std::vector<std::string>& skipped() const { return skipped_; }
  const weft::v1::Cluster* cluster(const std::string& name) const;
  // Null when the cluster has no SIMPLE or MUTUAL TLS (ISTIO_MUTUAL is the gateway's).
  const ClusterTls* clusterTls(const std::string& name) const;
  const std::shared_ptr<const RateLimitTable>& rateLimits() const { return rateLimits_; }

  // Exact domain first, then the longest "*.suffix" wildcard, then "*" (Envoy's order).
  const CompiledVirtualHost* virtualHost(uint32_t port, std::string_view hostHeader) const;
  static const CompiledVirtualHost* virtualHost(const std::vector<CompiledVirtualHost>& candidates, std::string_view hostHeader);
  // The waypoint target an HBONE CONNECT authority ("198.19.0.10:8000") names, or null.
  const WaypointTarget* waypointTarget(const std::string& authority) const;
  size_t waypointTargetCount() const { return waypointTargets_.size(); }
  static const CompiledRoute* route(const CompiledVirtualHost& vhost, const RequestView& request);
  // The route a connection to `port` takes: a TCP port's first; on a TLS port the one
  // whose SNI hosts match `sni` in the virtual hosts' order (exact, longest "*.suffix",
  // "*"); null when none does.
  static const CompiledTcpRoute* tcpRoute(const PortRoutes& port, std::string_view sni);
  // A waypoint's relayed connection: the tls[] route whose SNI hosts best match `sni`, else
  // the first route for any name (tcp[], or the Service), else null.
  static const CompiledTcpRoute* waypointTcpRoute(const WaypointTarget& target, std::string_view sni);
  static bool routesBySni(const std::vector<CompiledTcpRoute>& routes);
  // How well `route`'s SNI hosts match `sni` (host_match.h), to weigh it against a
  // terminating server's match on the same port.
  static size_t matchRank(const CompiledTcpRoute& route, std::string_view sni);

 private:
  std::map<uint32_t, PortRoutes> ports_;
  std::map<std::string, std::shared_ptr<const WaypointTarget>> waypointTargets_;  // by authority
  std::map<std::string, weft::v1::Cluster> clusters_;
  std::map<std::string, ClusterTls> clusterTls_;
  std::vector<std::string> skipped_;
  std::shared_ptr<const RateLimitTable> rateLimits_ = RateLimitTable::empty();
  AccessLog accessLog_ = AccessLog::kOff;
  HttpAuthorizer authorizer_;
  JwtAuthenticator authenticator_;
};

// "Example.COM:8080" -> "example.com"; "[::1]:80" -> "[::1]".
std::string normalizeHost(std::string_view host);

// The value of query parameter `name` in a request target ("/p?a=1&b" -> a: "1", b: "");
// nullopt when absent. Values are compared as sent, not percent-decoded (as Envoy does).
std::optional<std::string_view> queryParameter(std::string_view target, std::string_view name);

}  // namespace weft::proxy
