#pragma once
// The proxy view: Istio Gateways, the VirtualServices bound to them, DestinationRule
// subsets and the Services (with their ready pods) compiled into the Listener,
// RouteConfiguration and Cluster resources weft-proxy serves.
//
// Pure, like the registry: the same objects always give the same resources. Nothing the
// user writes refuses the whole view: a route to a host that does not exist becomes a
// route to a cluster without endpoints (the proxy answers 503), a route weftd cannot
// compile (a bad regex, a duration it cannot read) is left out with a note.
//
// Names: listener "<gw ns>/<gw name>/<port>", route configuration
// "<gw ns>/<gw name>/http.<port>", cluster "outbound|<port>|<subset>|<host>". A listener
// carries its Gateway's selector; each proxy keeps the listeners that select its pod.

#include <string>
#include <vector>

#include "control/registry.h"

namespace weft::control {

// The kinds the proxy view reads beyond the registry's own.
const std::vector<std::string>& proxyViewKinds();

// Adds the proxy view's resources to `build.resources` and its notes to `build.notes`.
// `mesh`: the live mesh config, for how Kubernetes Ingresses are served (ingress_view.h);
// empty fields are Istio's defaults.
void addProxyView(const ObjectsByKind& objects, RegistryBuild& build, const weft::v1::MeshConfig& mesh = weft::v1::MeshConfig());

}  // namespace weft::control
