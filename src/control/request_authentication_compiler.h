#pragma once
// RequestAuthentication compiled for weft-proxy (weft.v1.JwtAuthentication): its scope as
// an AuthorizationPolicy's, and each jwtRule with its issuer, audiences, inline JWKS (or
// the jwksUri, which the proxy does not fetch yet), token locations and header outputs.
// targetRefs, as for AuthorizationPolicy at waypoints: a Gateway API Gateway (its waypoint
// traffic, and an ingress Gateway's own requests) and a core Service (its traffic at its
// waypoint); other targets are left out with a note, and a policy left with no target is
// nullopt.

#include <optional>
#include <string>
#include <vector>

#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

std::optional<weft::v1::JwtAuthentication> compileRequestAuthentication(const model::Object& policy, const std::string& rootNamespace,
                                                                         std::vector<std::string>& notes);

}  // namespace weft::control
