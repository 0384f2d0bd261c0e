#pragma once
// A DestinationRule's trafficPolicy (loadBalancer, connectionPool, outlierDetection, tls)
// compiled onto one Cluster, merged as Istio merges it: the service-wide policy, then its
// portLevelSettings for the cluster's port, then the subset's policy, then the subset's
// port-level settings. Each section a later level sets replaces the earlier one whole.
//
// tls is compiled field for field; an unset `sni` stays empty, so the proxy picks the
// request's host (Istio's auto SNI). A tls credentialName's Secret versions are the
// caller's to stamp (it knows the Secrets).
//
// tunnel, proxyProtocol, locality and warm-up settings are not compiled yet; a
// DestinationRule using them is served without them and gets a note.

#include <functional>
#include <string>

#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

using TrafficPolicyNote = std::function<void(const std::string& what)>;

void applyTrafficPolicy(const model::Object& destinationRule, uint32_t port, const std::string& subset, weft::v1::Cluster& cluster,
                        const TrafficPolicyNote& note);

}  // namespace weft::control
