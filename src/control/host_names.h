#pragma once
// Istio's host names as the proxy view and the Gateway API view read them: a short name
// resolved in a namespace, and a Gateway server host meeting a route's host.

#include <string>

namespace weft::control {

// Istio's short-name resolution: "reviews" in namespace "ns" is
// "reviews.ns.svc.cluster.local"; a name with a dot is taken as written.
std::string resolveHost(const std::string& host, const std::string& ns);

// Whether a Gateway server host ("example.com", "*.example.com", "*") admits the
// VirtualService host `vsHost` (which may itself be a wildcard); when it does, `domain` is
// the more specific of the two, the one the virtual host serves.
bool serverHostAdmits(const std::string& serverHost, const std::string& vsHost, std::string& domain);

}  // namespace weft::control
