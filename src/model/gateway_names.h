#pragma once
// How a VirtualService names a Gateway in `gateways` (spec or match), read as istiod reads
// it: `mesh`; `<namespace>/<name>`; a bare `<name>` in the VirtualService's namespace; or
// the legacy FQDN `<name>.<namespace>[.svc.cluster.local]`, which validation still accepts
// with a warning. Every reader (routes at gateways and waypoints, analyze) resolves through
// here so that one spelling never binds in one place and not in another.

#include <string>
#include <string_view>

namespace weft::model {

inline constexpr std::string_view kMeshGateway = "mesh";

// `mesh`, or "<namespace>/<name>".
std::string resolveGatewayName(std::string_view name, std::string_view virtualServiceNamespace);

}  // namespace weft::model
