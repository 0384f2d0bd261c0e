#include "cli/waypoint_gateway.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "base/k8s_names.h"
#include "model/json_access.h"

namespace weft::cli {

namespace json = boost::json;

void registerWaypointCommands(CLI::App& app, const std::shared_ptr<WaypointInvocation>& into, std::function<void()> run) {
  auto* waypoint = app.add_subcommand("waypoint", "Manage waypoint configuration");
  waypoint->require_subcommand(1);
  auto shared = [&into](CLI::App* cmd) {
    cmd->add_option("-n,--namespace", into->ns, "Namespace (default: default)");
    cmd->add_option("--name", into->name, "name of the waypoint")->capture_default_str();
    cmd->add_option("--store", into->store, "Object store directory (default: $WEFT_STORE, else the cluster's store)");
    cmd->add_option("--cluster", into->cluster, "Local cluster (default: $WEFT_CLUSTER, else the current one)");
  };
  auto verb = [into, run](WaypointVerb v) {
    return [into, run, v] {
      into->verb = v;
      run();
    };
  };

  auto* apply = waypoint->add_subcommand("apply", "Apply a waypoint configuration");
  shared(apply);
  apply->add_option("--for", into->trafficType, "Specify the traffic type [all none service workload] for the waypoint");
  apply->add_flag("--enroll-namespace", into->enrollNamespace, "If set, the namespace will be labeled with the waypoint name");
  apply->add_flag("--overwrite", into->overwrite, "Overwrite the existing Waypoint used by the namespace");
  apply->add_option("-r,--revision", into->revision, "The revision to label the waypoint with");
  apply->add_flag("-w,--wait", into->wait, "Wait for the waypoint to be ready");
  apply->add_option("--waypoint-timeout", into->timeout, "Timeout for waiting for waypoint ready")->capture_default_str();
  apply->callback(verb(WaypointVerb::kApply));

  auto* generate = waypoint->add_subcommand("generate", "Generate a waypoint configuration as YAML");
  shared(generate);
  generate->add_option("--for", into->trafficType, "Specify the traffic type [all none service workload] for the waypoint");
  generate->add_option("-r,--revision", into->revision, "The revision to label the waypoint with");
  generate->callback(verb(WaypointVerb::kGenerate));

  auto* list = waypoint->add_subcommand("list", "List managed waypoint configurations");
  shared(list);
  list->add_flag("-A,--all-namespaces", into->allNamespaces, "List all waypoints in all namespaces");
  list->callback(verb(WaypointVerb::kList));

  auto* remove = waypoint->add_subcommand("delete", "Delete a waypoint configuration");
  shared(remove);
  remove->add_option("names", into->names, "Waypoint names");
  remove->add_flag("--all", into->all, "Delete all waypoints in the namespace");
  remove->add_option("-r,--revision", into->revision, "Delete the specified version of the waypoint in the namespace");
  remove->callback(verb(WaypointVerb::kDelete));
}

Result<model::Object> waypointGateway(const WaypointInvocation& invocation) {
  std::string name = invocation.name.empty() ? "waypoint" : invocation.name;
  if (name == "none") return makeError("failed to create gateway: invalid name provided for waypoint, 'none' is a reserved value");
  if (auto why = checkDns1123Label(name)) return makeError("failed to create gateway: --name {:?}: {}", name, *why);
  static const std::vector<std::string> kTraffic{"all", "none", "service", "workload"};
  json::object labels;
  if (!invocation.trafficType.empty()) {
    if (std::find(kTraffic.begin(), kTraffic.end(), invocation.trafficType) == kTraffic.end()) {
      return makeError("failed to create gateway: invalid traffic type: {}. Valid options are: [all none service workload]", invocation.trafficType);
    }
    labels["istio.io/waypoint-for"] = invocation.trafficType;
  }
  if (!invocation.revision.empty()) labels["istio.io/rev"] = invocation.revision;
  json::object metadata{{"name", name}, {"namespace", invocation.namespaceOrDefault()}};
  if (!labels.empty()) metadata["labels"] = std::move(labels);
  json::value gateway{{"apiVersion", "gateway.networking.k8s.io/v1"},
                      {"kind", "Gateway"},
                      {"metadata", std::move(metadata)},
                      {"spec", json::object{{"gatewayClassName", "istio-waypoint"},
                                            {"listeners", json::array{json::object{{"name", "mesh"}, {"port", 15008}, {"protocol", "HBONE"}}}}}}};
  return model::Object(model::findKind("gateway.networking.k8s.io/v1", "Gateway"), std::move(gateway));
}

Status checkDeleteArguments(const WaypointInvocation& invocation) {
  bool bulk = invocation.all || !invocation.revision.empty();
  if (bulk && !invocation.names.empty()) return makeError("cannot specify waypoint names when deleting all waypoints");
  if (!bulk && invocation.names.empty()) {
    return makeError("must specify a waypoint name or delete all using --all or delete specific revision using --revision");
  }
  return {};
}

std::string waypointListOutput(const std::vector<model::Object>& gateways, bool allNamespaces) {
  if (gateways.empty()) return "No waypoints found.\n";
  std::vector<const model::Object*> waypoints;
  for (const auto& gw : gateways) {
    if (model::stringAt(gw.value(), {"spec", "gatewayClassName"}) == "istio-waypoint") waypoints.push_back(&gw);
  }
  return waypointTable(std::move(waypoints), allNamespaces);
}

bool gatewayProgrammed(const model::Object& gateway) {
  for (const auto& c : model::arrayAt(gateway.value(), {"status", "conditions"})) {
    if (model::stringAt(c, {"type"}) == "Programmed") return model::stringAt(c, {"status"}) == "True";
  }
  return false;
}

std::string waypointTable(std::vector<const model::Object*> waypoints, bool allNamespaces) {
  std::sort(waypoints.begin(), waypoints.end(), [](const model::Object* a, const model::Object* b) {
    return std::make_pair(a->ns(), a->name()) < std::make_pair(b->ns(), b->name());
  });
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "REVISION", "TRAFFIC TYPE", "PROGRAMMED"});
  if (allNamespaces) rows.back().insert(rows.back().begin(), "NAMESPACE");
  for (const auto* gw : waypoints) {
    std::string revision = gw->label("istio.io/rev");
    std::string traffic = gw->label("istio.io/waypoint-for");
    std::string programmed = "False";
    for (const auto& c : model::arrayAt(gw->value(), {"status", "conditions"})) {
      if (model::stringAt(c, {"type"}) == "Programmed") programmed = model::stringAt(c, {"status"});
    }
    rows.push_back({gw->name(), revision.empty() ? "default" : revision, traffic.empty() ? "none" : traffic, programmed});
    if (allNamespaces) rows.back().insert(rows.back().begin(), gw->ns());
  }
  // Go's tabwriter (minwidth 0, padding 5): every cell but a line's last is padded to its
  // column's widest cell plus 5.
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i + 1 < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += i + 1 < row.size() ? fmt::format("{:<{}}", row[i], widths[i] + 5) : row[i];
    }
    out += '\n';
  }
  return out;
}

}  // namespace weft::cli
