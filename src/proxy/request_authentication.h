#pragma once
// RequestAuthentication at an ingress gateway, as Istio configures Envoy's jwt_authn: the
// jwtRules of every RequestAuthentication that applies to the gateway's pod (root
// namespace or its own without a selector, or a selector matching its labels), taken
// together.
//
// A request without a token passes with no request principal (an AuthorizationPolicy
// decides whether that is enough). A request with a token is answered 401 unless the token
// verifies: its issuer must be one a rule names ("Jwt issuer is not configured"), its
// signature must hold against that rule's keys, its times must hold and, when the rule
// lists audiences, one of its own must be among them. Every token in the rules' locations
// (fromHeaders with their prefix, fromParams, fromCookies; none written means
// `Authorization: Bearer <token>` and `access_token`) is checked, each by a rule that reads
// where it was found; the first names the principal. The headers a verified token writes
// are removed from every request first, so a client cannot supply them.
//
// On success the request principal is "<iss>/<sub>"; without forwardOriginalToken the
// header the token came in is removed before the request goes on; outputPayloadToHeader
// and outputClaimToHeaders add their headers. A rule with jwksUri has no keys here (the
// URI is not fetched yet): its tokens are answered 401 "Jwks remote fetch is failed", as
// Envoy answers when a fetch fails.

#include <boost/beast/http/fields.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/jwt_verifier.h"
#include "weft/v1/discovery.pb.h"

namespace weft::proxy {

inline constexpr const char* kJwtAuthenticationType = "weft.v1.JwtAuthentication";
// The label a Gateway API Gateway's pods carry with its name.
inline constexpr const char* kGatewayNameLabel = "gateway.networking.k8s.io/gateway-name";

struct JwtCheck {
  enum class State { kNoToken, kVerified, kRefused };
  State state = State::kNoToken;
  std::string failure;             // kRefused: the 401 body (Envoy's text)
  std::optional<VerifiedJwt> jwt;  // kVerified
  std::string principal() const { return jwt ? jwt->issuer + "/" + jwt->subject : std::string(); }
};

class JwtAuthenticator {
 public:
  // The rules of the policies in `all` that apply to a proxy in `ns` with `labels`. A
  // rule whose inline JWKS cannot be read is kept (its tokens fail) and reported in
  // `problems`.
  static JwtAuthenticator forWorkload(const std::vector<weft::v1::JwtAuthentication>& all, const std::string& ns,
                                      const std::map<std::string, std::string>& labels, const std::string& rootNamespace,
                                      std::vector<std::string>& problems);
  // At a waypoint, for traffic to the Service `serviceHost`: the policies attached by
  // targetRefs to the waypoint's Gateway `gateway` ("<ns>/<name>") or to that Service.
  static JwtAuthenticator forWaypointTarget(const std::vector<weft::v1::JwtAuthentication>& all, const std::string& gateway,
                                            const std::string& serviceHost, std::vector<std::string>& problems);

  bool empty() const { return rules_.empty(); }

  // Checks the request whose headers are `headers` and whose target is `target`, editing
  // the headers as the matching rule says once its token verified.
  JwtCheck check(boost::beast::http::fields& headers, std::string_view target, std::chrono::system_clock::time_point now) const;

 private:
  struct Rule {
    weft::v1::JwtRule spec;
    std::optional<JwtKeys> keys;  // none: jwksUri, or an unreadable JWKS
    std::string keysProblem;
  };
  void add(const weft::v1::JwtAuthentication& policy, std::vector<std::string>& problems);
  // One rule's verdict on a token: its keys, signature, times and audiences.
  static Result<VerifiedJwt> checkWithRule(const Rule& rule, ParsedJwt parsed, const std::string& issuer, std::chrono::system_clock::time_point now);

  std::vector<Rule> rules_;
};

}  // namespace weft::proxy
