#pragma once
// The registry: from the objects in the store to the resources the data planes are sent.
// Pure: the same objects always give the same resources, so weftd can rebuild it from
// the store at any time (a restart loses nothing) and the discovery server can diff two
// builds to push only what changed.

#include <map>
#include <string>
#include <vector>

#include "control/certificate_policy.h"
#include "control/jwks_source.h"
#include "model/enrollment.h"
#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

inline constexpr const char* kWorkloadType = "weft.v1.Workload";
inline constexpr const char* kServiceType = "weft.v1.Service";
inline constexpr const char* kAuthorizationType = "weft.v1.Authorization";
inline constexpr const char* kMeshConfigType = "weft.v1.MeshConfig";
inline constexpr const char* kHttpAuthorizationType = "weft.v1.HttpAuthorization";
inline constexpr const char* kJwtAuthenticationType = "weft.v1.JwtAuthentication";
// The proxy view (src/control/proxy_view.h).
inline constexpr const char* kListenerType = "weft.v1.Listener";
inline constexpr const char* kRouteConfigurationType = "weft.v1.RouteConfiguration";
inline constexpr const char* kClusterType = "weft.v1.Cluster";

struct RegistrySettings {
  std::string revision;      // this weftd's revision ("default" when none)
  std::string clusterId = "Kubernetes";
  weft::v1::MeshConfig mesh;  // trust domain, outbound policy, ...
  FetchedJwksByKey jwks;      // RequestAuthentication keys weftd fetched (control/jwks_resolver.h)
};

// Every object kind the registry reads, by qualified kind ("Pod", "ServiceEntry.networking.istio.io").
using ObjectsByKind = std::map<std::string, std::vector<model::Object>>;

// The objects of one kind; an empty list when there are none.
const std::vector<model::Object>& objectsOf(const ObjectsByKind& objects, const std::string& kind);

// The object with that key; null when there is none.
const model::Object* findObject(const ObjectsByKind& objects, const model::ObjectKey& key);

// type -> resource name -> resource (versions are left to the discovery snapshot).
using ResourceSet = std::map<std::string, std::map<std::string, weft::v1::Resource>>;

// What keeps a Gateway API listener from being served as written, for its status
// (gateway_api_status.h): the condition it sets, as the Gateway API names conditions and
// reasons, and whether the listener is left out (no route attaches to it) or served anyway.
struct ListenerProblem {
  std::string condition;  // "Accepted", "Conflicted" or "ResolvedRefs"
  std::string reason;     // "UnsupportedProtocol", "ProtocolConflict", "InvalidCertificateRef", ...
  std::string message;
  bool leftOut = true;
};
// What the Gateway API view could not serve as written, for the status weftd writes.
struct GatewayApiProblems {
  std::map<std::string, std::map<size_t, ListenerProblem>> listeners;  // "<ns>/<name>" of a Gateway -> listener index
  std::map<model::ObjectKey, std::string> unservedRules;  // a route -> why the first of its rules answering 500 does
};

struct RegistryBuild {
  ResourceSet resources;
  std::vector<PodPlacement> placements;  // for the certificate service
  std::vector<std::string> notes;        // policies skipped and why (logged by weftd)
  std::vector<JwksSource> jwksSources;   // keys to fetch for RequestAuthentication rules
  size_t enrolledWorkloads = 0;
  GatewayApiProblems gatewayApiProblems;  // from the Gateway API and waypoint views
};

RegistryBuild buildRegistry(const ObjectsByKind& objects, const RegistrySettings& settings);

// The kinds buildRegistry reads (what weftd watches).
const std::vector<std::string>& registryKinds();

// Whether a pod is in the mesh: shared with the node agent, so it lives in the model.
using model::podEnrolled;

}  // namespace weft::control
