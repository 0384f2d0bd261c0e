#pragma once
// weftd's gateway controller: every Gateway API `Gateway` of class istio or istio-waypoint
// gets its Deployment, Service and ServiceAccount (install/managed_gateway_objects.h), as
// Istio's istiod deploys them; when the Gateway goes, so do they. It also writes the
// Gateway's status (addresses, Accepted, Programmed, and each listener's), the status of
// the routes attached to them (gateway_api_status.h), and makes the GatewayClasses istio and
// istio-waypoint when they do not exist, as istiod does.
//
// It lives in weftd because istiod is where Istio runs it, and because weftd already opens
// the store read-write and watches every kind it needs; a Gateway without a control plane
// gets no proxy, as in Istio.
//
// Which weftd deploys a Gateway: the one of its istio.io/rev label; an unlabelled Gateway
// is the default revision's when that revision is installed, else the first installed
// revision's by name (so a cluster installed with --revision prod alone still gets its
// Gateways deployed, and two weftds never fight over one).
//
// Level-based: planGatewayDeployment compares what it wants with what exists and returns
// only differences, so a pass that follows its own writes plans nothing. Fields the cluster
// fills in (a Service's clusterIP and nodePorts, every status) are kept when an object is
// updated, so updates never move a node port.

#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "control/gateway_api_status.h"
#include "control/registry.h"
#include "store/local_store.h"

namespace weft::control {

struct GatewayDeploymentPlan {
  std::vector<model::Object> create;   // objects that do not exist yet
  std::vector<model::Object> update;   // existing objects whose labels or spec differ (desired form)
  std::vector<model::ObjectKey> remove;  // objects this revision rendered for Gateways that are gone
  std::vector<StatusUpdate> statuses;  // Gateways' and routes'
  std::vector<std::string> notes;
};

// The kinds the plan reads, for weftd's watch.
const std::vector<std::string>& gatewayDeployerKinds();

// `revision`: this weftd's ("default" when none); `now`: RFC 3339, for new conditions;
// `problems`: the listeners the proxy view left out or served in part, and why; `mesh`:
// the live mesh config (which Ingresses are Istio's, and the Service whose address they show).
GatewayDeploymentPlan planGatewayDeployment(const ObjectsByKind& objects, const std::string& revision, const std::string& weftVersion,
                                            const std::string& now, const GatewayApiProblems& problems = {},
                                            const weft::v1::MeshConfig& mesh = weft::v1::MeshConfig());

// `current` (as stored) with `desired`'s labels and spec laid over it, keeping what the
// cluster filled in: a Service's clusterIP(s) and each port's nodePort (matched by port).
boost::json::value mergeManagedObject(const boost::json::value& current, const boost::json::value& desired);

// Performs `plan` on the store, one object at a time (a failure is logged and the rest go
// on; the next pass retries it).
void applyGatewayDeployment(store::LocalStore& store, const GatewayDeploymentPlan& plan);

}  // namespace weft::control
