#pragma once
// AuthorizationPolicy at L7 in weft-proxy, with Envoy's RBAC order: a CUSTOM action is not
// built; any matching DENY policy refuses (403 "RBAC: access denied"); then, if any ALLOW
// policy applies to this proxy, one of them must match; AUDIT policies that match are
// recorded and decide nothing. Which policies apply: those in the root namespace without
// a selector, those in the proxy's namespace without one, and those whose selector
// matches the proxy's pod labels (in its namespace or the root namespace).
//
// Facts about the request: the Host header, method, path without query, the listener
// port, the client's address (source.ip; remote.ip is the same, numTrustedProxies being 0),
// the address it connected to (destination.ip: the listener's, or at a waypoint the
// Service VIP or pod address its tunnel names),
// and for a client certificate on a MUTUAL listener its SPIFFE identity (principals,
// namespaces), and for a JWT that RequestAuthentication verified (request_authentication.h)
// its request principal "<iss>/<sub>" (requestPrincipals, request.auth.principal), its
// audiences, presenter (azp) and claims (request.auth.claims[name], nested as
// [a][b]; a list claim matches when one of its strings does). Without a verified JWT,
// requestPrincipals and request.auth.* values match nothing.
//
// A connection relayed as bytes (a TCP route, a waypoint's TCP Service port) has no request:
// as Istio does for TCP traffic, a rule that needs an HTTP-only field (hosts, methods, paths,
// requestPrincipals, a `when` on the request) matches nothing in an ALLOW policy, and in a
// DENY or AUDIT policy those fields are left out, so the rule matches more, never less.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/jwt_verifier.h"
#include "weft/v1/discovery.pb.h"

namespace weft::proxy {

inline constexpr const char* kHttpAuthorizationType = "weft.v1.HttpAuthorization";

struct AuthorizationFacts {
  std::string_view host;    // the Host header as sent
  std::string_view method;
  std::string_view path;    // without the query
  uint32_t port = 0;
  std::string_view sourceAddress;
  std::string_view destinationAddress;  // empty: a destination.ip condition cannot hold
  std::string_view peerIdentity;  // "spiffe://td/ns/x/sa/y" or empty
  std::string_view sni;
  std::function<std::optional<std::string_view>(std::string_view lowerName)> header;
  const VerifiedJwt* jwt = nullptr;  // a token RequestAuthentication verified, if any
  bool connectionOnly = false;  // a relayed connection: only the L4 fields exist (above)
};

struct AuthorizationDecision {
  bool allowed = true;
  std::string policy;                // the DENY that matched, or "" (no ALLOW matched)
  std::vector<std::string> audited;  // AUDIT policies that matched, "ns/name"
};

class HttpAuthorizer {
 public:
  // The policies of `all` that apply to a proxy in `ns` with `labels`.
  // Policies attached by targetRefs are never among them.
  static HttpAuthorizer forWorkload(const std::vector<weft::v1::HttpAuthorization>& all, const std::string& ns,
                                    const std::map<std::string, std::string>& labels, const std::string& rootNamespace);
  // At a waypoint, for traffic to the Service `serviceHost`: only the policies attached by
  // targetRefs to the waypoint's Gateway `gateway` ("<ns>/<name>") or to that Service, as in
  // Istio (selector and namespace-wide policies are ztunnel's).
  static HttpAuthorizer forWaypointTarget(const std::vector<weft::v1::HttpAuthorization>& all, const std::string& gateway,
                                          const std::string& serviceHost);

  bool empty() const { return allow_.empty() && deny_.empty() && audit_.empty(); }
  AuthorizationDecision decide(const AuthorizationFacts& facts) const;

 private:
  void add(const weft::v1::HttpAuthorization& policy);

  std::vector<weft::v1::HttpAuthorization> allow_, deny_, audit_;
};

bool httpPolicyMatches(const weft::v1::HttpAuthorization& policy, const AuthorizationFacts& facts);

// A claim of a verified token by its path "[a][b]...": its strings (a string, or the
// strings of a list; numbers and objects give none); nullopt when it is absent. A
// top-level space-delimited claim ("scope": "read write") gives its words instead, as
// Envoy puts such a claim into the request's metadata as a list. AuthorizationPolicy's
// request.auth.claims and VirtualService's "@request.auth.claims" matches read it.
std::optional<std::vector<std::string>> jwtClaimStrings(const VerifiedJwt& jwt, std::string_view path);

}  // namespace weft::proxy
