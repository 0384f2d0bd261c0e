#pragma once
// `weft waypoint`'s pure parts, as istioctl's (istioctl/pkg/waypoint/waypoint.go): the
// flags, the Gateway a waypoint is (class istio-waypoint, one listener mesh/15008/HBONE,
// labelled istio.io/waypoint-for and istio.io/rev only when asked), argument checks, and
// the `list` table. The store-touching verbs are in waypoint_commands.cc.

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/object.h"

namespace weft::cli {

enum class WaypointVerb { kNone, kApply, kGenerate, kList, kDelete };

struct WaypointInvocation {
  WaypointVerb verb = WaypointVerb::kNone;
  std::string ns;                  // -n; "" means default
  std::string name = "waypoint";   // --name
  std::string trafficType;         // --for: service, workload, all, none; "" leaves the label off
  std::string revision;            // -r
  bool enrollNamespace = false;    // apply --enroll-namespace
  bool overwrite = false;          // apply --overwrite
  bool wait = false;               // apply --wait
  std::string timeout = "90s";     // apply --waypoint-timeout
  bool allNamespaces = false;      // list -A
  bool all = false;                // delete --all
  std::vector<std::string> names;  // delete NAME...
  std::string store, cluster;      // --store, --cluster

  std::string namespaceOrDefault() const { return ns.empty() ? "default" : ns; }
};

// Adds `waypoint` and its subcommands to `app`; a chosen subcommand fills `into` and calls `run`.
void registerWaypointCommands(CLI::App& app, const std::shared_ptr<WaypointInvocation>& into, std::function<void()> run);

// The waypoint Gateway `apply` and `generate` write, with istioctl's refusals (name
// "none" is reserved; --for must be one of all, none, service, workload).
Result<model::Object> waypointGateway(const WaypointInvocation& invocation);

// `delete`'s arguments: names, or --all / --revision, not both and not neither.
Status checkDeleteArguments(const WaypointInvocation& invocation);

// `list`'s table (Go tabwriter, padding 5), waypoints sorted by namespace and name:
// NAME REVISION TRAFFIC TYPE PROGRAMMED, with NAMESPACE first for -A. REVISION is the
// istio.io/rev label ("default" when absent), TRAFFIC TYPE istio.io/waypoint-for ("none"
// when absent, as istioctl prints it), PROGRAMMED the status condition ("False" when absent).
std::string waypointTable(std::vector<const model::Object*> waypoints, bool allNamespaces);

// What `list` prints for the Gateways of the namespace (or all of them with -A), as
// istioctl does: "No waypoints found." only when there is no Gateway at all; otherwise the
// table of those of class istio-waypoint (just the header when none is).
std::string waypointListOutput(const std::vector<model::Object>& gateways, bool allNamespaces);

// Whether a Gateway's Programmed condition is True.
bool gatewayProgrammed(const model::Object& gateway);

}  // namespace weft::cli
