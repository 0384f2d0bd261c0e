#pragma once
// Type URLs of the resources weftd serves. A type URL is the full protobuf name of the
// body a Resource carries ("weft.v1.Workload"), as discovery.proto spells it, so a new
// body type in the oneof needs no change here to be served.

#include <string>
#include <string_view>

#include "base/result.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control::discovery {

inline constexpr std::string_view kWorkloadType = "weft.v1.Workload";
inline constexpr std::string_view kServiceType = "weft.v1.Service";
inline constexpr std::string_view kAuthorizationType = "weft.v1.Authorization";
inline constexpr std::string_view kMeshConfigType = "weft.v1.MeshConfig";
// The proxy view (weft-proxy).
inline constexpr std::string_view kListenerType = "weft.v1.Listener";
inline constexpr std::string_view kRouteConfigurationType = "weft.v1.RouteConfiguration";
inline constexpr std::string_view kClusterType = "weft.v1.Cluster";

// "*" in a subscribe or unsubscribe list: every resource of the type.
inline constexpr std::string_view kWildcard = "*";

// The type URL of the body `resource` carries; an error when it carries none.
Result<std::string> typeUrlOf(const weft::v1::Resource& resource);

// The body message itself (Workload, Service, ...), or null when there is none.
const google::protobuf::Message* bodyOf(const weft::v1::Resource& resource);

}  // namespace weft::control::discovery
