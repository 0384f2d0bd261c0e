// `weft waypoint apply|generate|list|delete`: istioctl's waypoint commands on the store.
// Output lines are istioctl's, emoji included, so scripts written for one read the other.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "base/duration.h"
#include "cli/cli.h"
#include "cli/object_commands.h"
#include "cli/store_access.h"
#include "cli/waypoint_gateway.h"
#include "model/json_access.h"
#include "model/yaml_writer.h"

namespace weft::cli {
namespace {

namespace json = boost::json;

constexpr const char* kGatewayKind = "Gateway.gateway.networking.k8s.io";
constexpr const char* kUseWaypointLabel = "istio.io/use-waypoint";

Result<std::optional<model::Object>> namespaceObject(store::LocalStore& store, const std::string& ns) {
  auto found = store.get({"Namespace", "", ns});
  if (!found) return found.error();
  if (!*found) return makeError("namespace: {} not found", ns);
  return found;
}

std::vector<model::Object> waypointsIn(const std::vector<model::Object>& gateways) {
  std::vector<model::Object> out;
  for (const auto& gw : gateways) {
    if (model::stringAt(gw.value(), {"spec", "gatewayClassName"}) == "istio-waypoint") out.push_back(gw);
  }
  return out;
}

int runApply(store::LocalStore& store, const WaypointInvocation& w) {
  const std::string ns = w.namespaceOrDefault();
  auto gateway = waypointGateway(w);
  if (!gateway) return printError(gateway.error());
  auto nsObject = namespaceObject(store, ns);
  if (!nsObject) return printError(nsObject.error());
  if (w.enrollNamespace) {
    if (!w.overwrite && !(*nsObject)->label(kUseWaypointLabel).empty()) {
      // istioctl warns and stops here rather than failing.
      fmt::print("⚠️ Warning: namespace ({}) already has an enrolled Waypoint. Consider adding the `--overwrite` flag to your apply command.\n", ns);
      return kExitOk;
    }
    if ((*nsObject)->label("istio.io/dataplane-mode") != "ambient") {
      fmt::print("⚠️ Warning: namespace is not enrolled in ambient. Consider running\t`kubectl label namespace {} istio.io/dataplane-mode=ambient`\n", ns);
    }
  }
  const std::string name = gateway->name();
  if (auto applied = store.apply({*gateway}); !applied) return printError(applied.error());
  fmt::print("✅ waypoint {}/{} applied\n", ns, name);
  if (w.wait) {
    auto timeout = parseDuration(w.timeout);
    if (!timeout) return printError(timeout.error().wrap("--waypoint-timeout"));
    auto deadline = std::chrono::steady_clock::now() + *timeout;
    while (true) {
      auto current = store.get(gateway->key());
      if (current && *current && gatewayProgrammed(**current)) break;
      if (std::chrono::steady_clock::now() >= deadline) return printError(makeError("timed out while waiting for waypoint\t{}/{}", ns, name));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    fmt::print("✅ waypoint {}/{} is ready!\n", ns, name);
  }
  if (w.enrollNamespace) {
    auto labelled = store.update({"Namespace", "", ns}, [&name](json::value& object) -> Status {
      auto& meta = object.as_object()["metadata"].as_object();
      if (!meta["labels"].is_object()) meta["labels"] = json::object();
      meta["labels"].as_object()[kUseWaypointLabel] = name;
      return {};
    });
    if (!labelled) return printError(makeError("failed to label namespace with waypoint: {}", labelled.error().message));
    fmt::print("✅ namespace {} labeled with \"{}: {}\"\n", ns, kUseWaypointLabel, name);
  }
  return kExitOk;
}

int runList(store::LocalStore& store, const WaypointInvocation& w) {
  auto gateways = store.list(kGatewayKind, w.allNamespaces ? "" : w.namespaceOrDefault());
  if (!gateways) return printError(gateways.error());
  fmt::print("{}", waypointListOutput(*gateways, w.allNamespaces));
  return kExitOk;
}

int runDelete(store::LocalStore& store, const WaypointInvocation& w) {
  if (auto ok = checkDeleteArguments(w); !ok) return printError(ok.error());
  const std::string ns = w.namespaceOrDefault();
  auto gateways = store.list(kGatewayKind, ns);
  if (!gateways) return printError(gateways.error());
  auto waypoints = waypointsIn(*gateways);
  std::vector<std::string> names;
  if (w.names.empty()) {
    for (const auto& gw : waypoints) {
      if (w.revision.empty() || gw.label("istio.io/rev") == w.revision) names.push_back(gw.name());
    }
  } else {
    for (const auto& name : w.names) {
      bool found = std::any_of(waypoints.begin(), waypoints.end(), [&](const model::Object& gw) { return gw.name() == name; });
      if (found) {
        names.push_back(name);
      } else {
        fmt::print("waypoint {}/{} not found\n", ns, name);
      }
    }
  }
  int exit = kExitOk;
  for (const auto& name : names) {
    if (auto removed = store.remove({{kGatewayKind, ns, name}}); !removed) {
      exit = printError(removed.error());
    } else {
      fmt::print("waypoint {}/{} deleted\n", ns, name);
    }
  }
  return exit;
}

int runWaypoint(const WaypointInvocation& w) {
  if (w.verb == WaypointVerb::kGenerate) {
    auto gateway = waypointGateway(w);
    if (!gateway) return printError(gateway.error());
    fmt::print("{}", model::toYaml(gateway->value()));
    return kExitOk;
  }
  // Refused flags are refused before the store is opened (or made).
  if (w.verb == WaypointVerb::kApply) {
    if (auto gateway = waypointGateway(w); !gateway) return printError(gateway.error());
  }
  if (w.verb == WaypointVerb::kDelete) {
    if (auto ok = checkDeleteArguments(w); !ok) return printError(ok.error());
  }
  auto store = openStore({w.store, w.cluster});
  if (!store) return printError(store.error());
  switch (w.verb) {
    case WaypointVerb::kApply:
      return runApply(*store, w);
    case WaypointVerb::kList:
      return runList(*store, w);
    case WaypointVerb::kDelete:
      return runDelete(*store, w);
    default:
      return kExitUsage;
  }
}

}  // namespace

void addWaypointCommands(CLI::App& app, int& exitCode) {
  auto invocation = std::make_shared<WaypointInvocation>();
  registerWaypointCommands(app, invocation, [invocation, &exitCode] { exitCode = runWaypoint(*invocation); });
}

}  // namespace weft::cli
