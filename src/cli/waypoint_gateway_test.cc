// `weft waypoint`: flags as istioctl spells them, the Gateway it writes, its refusals, and
// the list table.
#include "cli/waypoint_gateway.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "model/decoder.h"
#include "model/json_access.h"
#include "model/yaml_writer.h"

namespace weft::cli {
namespace {

namespace json = boost::json;

struct Parsed {
  std::shared_ptr<WaypointInvocation> invocation = std::make_shared<WaypointInvocation>();
  int runs = 0;
  std::string error;
};

Parsed parse(std::vector<std::string> args) {
  Parsed out;
  CLI::App app{"weft"};
  registerWaypointCommands(app, out.invocation, [&out] { ++out.runs; });
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    out.error = e.what();
  }
  return out;
}

TEST(WaypointCommands, ApplyTakesIstioctlsFlags) {
  auto p = parse({"waypoint", "apply", "-n", "apps", "--name", "wp", "--enroll-namespace", "--overwrite", "--for", "service", "-r", "prod",
                  "--wait", "--waypoint-timeout", "30s"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.runs, 1);
  const auto& w = *p.invocation;
  EXPECT_EQ(w.verb, WaypointVerb::kApply);
  EXPECT_EQ(w.ns, "apps");
  EXPECT_EQ(w.name, "wp");
  EXPECT_TRUE(w.enrollNamespace);
  EXPECT_TRUE(w.overwrite);
  EXPECT_EQ(w.trafficType, "service");
  EXPECT_EQ(w.revision, "prod");
  EXPECT_TRUE(w.wait);
  EXPECT_EQ(w.timeout, "30s");
}

TEST(WaypointCommands, DefaultsAreIstioctls) {
  auto p = parse({"waypoint", "apply"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.invocation->name, "waypoint");
  EXPECT_EQ(p.invocation->namespaceOrDefault(), "default");
  EXPECT_FALSE(p.invocation->enrollNamespace);
  EXPECT_EQ(p.invocation->trafficType, "");
}

TEST(WaypointCommands, ListAndDelete) {
  auto list = parse({"waypoint", "list", "-A"});
  ASSERT_EQ(list.error, "");
  EXPECT_EQ(list.invocation->verb, WaypointVerb::kList);
  EXPECT_TRUE(list.invocation->allNamespaces);

  auto names = parse({"waypoint", "delete", "a", "b", "-n", "apps"});
  ASSERT_EQ(names.error, "");
  EXPECT_EQ(names.invocation->verb, WaypointVerb::kDelete);
  EXPECT_EQ(names.invocation->names, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(checkDeleteArguments(*names.invocation).ok());

  auto all = parse({"waypoint", "delete", "--all", "-n", "apps"});
  EXPECT_TRUE(all.invocation->all);
  EXPECT_TRUE(checkDeleteArguments(*all.invocation).ok());

  auto both = parse({"waypoint", "delete", "--all", "a"});
  EXPECT_EQ(checkDeleteArguments(*both.invocation).error().message, "cannot specify waypoint names when deleting all waypoints");
  auto neither = parse({"waypoint", "delete"});
  EXPECT_NE(checkDeleteArguments(*neither.invocation).error().message.find("must specify a waypoint name"), std::string::npos);
}

TEST(WaypointCommands, UnknownFlagsAndMissingSubcommandsAreUsageErrors) {
  EXPECT_NE(parse({"waypoint", "apply", "--bogus"}).error, "");
  EXPECT_NE(parse({"waypoint"}).error, "");
  EXPECT_EQ(parse({"waypoint", "list", "--enroll-namespace"}).runs, 0) << "--enroll-namespace belongs to apply";
}

TEST(WaypointGateway, IsAnIstioWaypointGatewayWithTheMeshListener) {
  WaypointInvocation w;
  w.ns = "apps";
  auto gw = waypointGateway(w);
  ASSERT_TRUE(gw.ok()) << gw.error().message;
  EXPECT_EQ(gw->key().kind, "Gateway.gateway.networking.k8s.io");
  EXPECT_EQ(gw->name(), "waypoint");
  EXPECT_EQ(gw->ns(), "apps");
  EXPECT_EQ(gw->labels().size(), 0u) << "no --for, no -r: no labels (istiod picks the default)";
  EXPECT_EQ(model::at(gw->value(), {"spec"}),
            json::parse(R"({"gatewayClassName":"istio-waypoint","listeners":[{"name":"mesh","port":15008,"protocol":"HBONE"}]})"));
  // What `weft apply` would accept.
  auto decoded = model::decodeYaml(model::toYaml(gw->value()), "gw.yaml", {});
  EXPECT_TRUE(decoded.ok());

  w.trafficType = "all";
  w.revision = "prod";
  auto labelled = waypointGateway(w);
  EXPECT_EQ(labelled->label("istio.io/waypoint-for"), "all");
  EXPECT_EQ(labelled->label("istio.io/rev"), "prod");
}

TEST(WaypointGateway, RefusesReservedNamesAndUnknownTrafficTypes) {
  WaypointInvocation w;
  w.name = "none";
  EXPECT_NE(waypointGateway(w).error().message.find("'none' is a reserved value"), std::string::npos);
  w.name = "Bad_Name";
  EXPECT_NE(waypointGateway(w).error().message.find("--name"), std::string::npos);
  w.name = "waypoint";
  w.trafficType = "services";
  EXPECT_EQ(waypointGateway(w).error().message,
            "failed to create gateway: invalid traffic type: services. Valid options are: [all none service workload]");
}

model::Object gateway(const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "gw.yaml", {});
  EXPECT_TRUE(decoded.ok());
  return decoded.objects.at(0);
}

TEST(WaypointTable, IstioctlsColumns) {
  auto a = gateway(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: apps, labels: {istio.io/waypoint-for: service}}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
status: {conditions: [{type: Programmed, status: "True", reason: Programmed, message: ok, lastTransitionTime: "2026-01-01T00:00:00Z"}]}
)");
  auto b = gateway(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: b-longer-name, namespace: apps, labels: {istio.io/rev: prod}}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
)");
  EXPECT_EQ(waypointTable({&a, &b}, false),
            "NAME              REVISION     TRAFFIC TYPE     PROGRAMMED\n"
            "b-longer-name     prod         none             False\n"
            "waypoint          default      service          True\n");
  EXPECT_EQ(waypointTable({&a}, true),
            "NAMESPACE     NAME         REVISION     TRAFFIC TYPE     PROGRAMMED\n"
            "apps          waypoint     default      service          True\n");
}

TEST(WaypointTable, NoWaypointsFoundOnlyWithoutAnyGatewayAsIstioctlSays) {
  EXPECT_EQ(waypointListOutput({}, false), "No waypoints found.\n");
  auto ingress = gateway(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ingress, namespace: apps}
spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}]}
)");
  // A Gateway of another class is not listed, but istioctl prints the header then.
  EXPECT_EQ(waypointListOutput({ingress}, false), "NAME     REVISION     TRAFFIC TYPE     PROGRAMMED\n");
  auto waypoint = gateway(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: apps}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
)");
  EXPECT_EQ(waypointListOutput({ingress, waypoint}, false),
            "NAME         REVISION     TRAFFIC TYPE     PROGRAMMED\n"
            "waypoint     default      none             False\n");
}

}  // namespace
}  // namespace weft::cli
