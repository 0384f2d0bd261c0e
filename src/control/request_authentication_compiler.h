#pragma once
// RequestAuthentication compiled for weft-proxy (weft.v1.JwtAuthentication): its scope as
// an AuthorizationPolicy's, and each jwtRule with its issuer, audiences, JWKS, token
// locations and header outputs. A rule's keys are always inline in what the proxy gets:
// written inline, or fetched by weftd from its jwksUri or its issuer's OpenID discovery
// document (the sources are listed for weftd's resolver; until a fetch works the rule has
// no keys and its tokens are refused, as Envoy does with a JWKS it could not fetch).
// targetRefs, as for AuthorizationPolicy at waypoints: a Gateway API Gateway (its waypoint
// traffic, and an ingress Gateway's own requests) and a core Service (its traffic at its
// waypoint); other targets are left out with a note, and a policy left with no target is
// nullopt.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "control/jwks_source.h"
#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

// The longest a rule's `timeout` makes weftd wait for one fetch.
inline constexpr std::chrono::milliseconds kMaxJwksTimeout = std::chrono::seconds(30);

struct JwksKeys {
  const FetchedJwksByKey& fetched;    // what weftd has fetched so far
  std::vector<JwksSource>& wanted;    // every source a rule needs, appended to
};

std::optional<weft::v1::JwtAuthentication> compileRequestAuthentication(const model::Object& policy, const std::string& rootNamespace,
                                                                         const JwksKeys& keys, std::vector<std::string>& notes);

}  // namespace weft::control
