#pragma once
// RequestAuthentication compiled for weft-proxy (weft.v1.JwtAuthentication): its scope as
// an AuthorizationPolicy's, and each jwtRule with its issuer, audiences, inline JWKS (or
// the jwksUri, which the proxy does not fetch yet), token locations and header outputs.
// A targetRef to a Gateway API Gateway selects its pods (label
// gateway.networking.k8s.io/gateway-name); other targets (a Service at a waypoint, a second
// Gateway) are left out with a note, and a policy left with no target is nullopt.

#include <optional>
#include <string>
#include <vector>

#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

std::optional<weft::v1::JwtAuthentication> compileRequestAuthentication(const model::Object& policy, const std::string& rootNamespace,
                                                                         std::vector<std::string>& notes);

}  // namespace weft::control
