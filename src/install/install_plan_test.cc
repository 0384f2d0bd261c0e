#include "install/install_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "install/test_support.h"
#include "model/json_access.h"

namespace weft::install {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace testing;  // NOLINT: the helpers of this library's tests

std::vector<std::string> gatewayNames(const InstallPlan& p) {
  std::vector<std::string> names;
  for (const auto& g : p.gateways) names.push_back(g.ns + "/" + g.name + (g.ingress ? " (ingress)" : " (egress)"));
  return names;
}

InstallPlan planProfile(const std::string& profile) {
  return plan(decode(istioOperator("  profile: " + profile + "\n")));
}

// --- profiles ----------------------------------------------------------------------------

TEST(Profiles, DefaultInstallsCorePilotIngressAndZtunnel) {
  for (const auto& p : {plan({}), planProfile("default")}) {
    EXPECT_EQ(p.profile, "default");
    EXPECT_TRUE(p.base);
    EXPECT_TRUE(p.controlPlane);
    EXPECT_TRUE(p.ztunnel);
    EXPECT_THAT(gatewayNames(p), ElementsAre("istio-system/istio-ingressgateway (ingress)"));
    EXPECT_THAT(p.componentNames(), ElementsAre("Istio core", "Istiod", "Ingress gateways", "Ztunnel"));
    EXPECT_EQ(json::serialize(p.gateways.at(0).labels), R"({"app":"istio-ingressgateway","istio":"ingressgateway"})");
    EXPECT_EQ(p.gateways.at(0).serviceType, "LoadBalancer");
    EXPECT_THAT(p.namespaces, ElementsAre("istio-system"));
  }
}

TEST(Profiles, MinimalInstallsNoGateway) {
  auto p = planProfile("minimal");
  EXPECT_TRUE(p.base && p.controlPlane && p.ztunnel);
  EXPECT_THAT(p.gateways, IsEmpty());
  EXPECT_THAT(p.componentNames(), ElementsAre("Istio core", "Istiod", "Ztunnel"));
}

TEST(Profiles, DemoAddsTheEgressGatewayAndAccessLogs) {
  auto p = planProfile("demo");
  EXPECT_THAT(gatewayNames(p),
              ElementsAre("istio-system/istio-ingressgateway (ingress)", "istio-system/istio-egressgateway (egress)"));
  EXPECT_THAT(p.componentNames(),
              ElementsAre("Istio core", "Istiod", "Ingress gateways", "Egress gateways", "Ztunnel"));
  EXPECT_EQ(p.meshConfig.at("accessLogFile"), json::value("/dev/stdout"));
  const auto& egress = p.gateways.at(1);
  EXPECT_EQ(json::serialize(egress.labels), R"({"app":"istio-egressgateway","istio":"egressgateway"})");
  EXPECT_EQ(egress.serviceType, "ClusterIP");
  EXPECT_EQ(
      json::serialize(egress.ports),
      R"([{"name":"http2","port":80,"targetPort":8080,"protocol":"TCP"},{"name":"https","port":443,"targetPort":8443,"protocol":"TCP"}])");
}

TEST(Profiles, AmbientInstallsCorePilotAndZtunnelAndRecordsCni) {
  auto p = planProfile("ambient");
  EXPECT_TRUE(p.base && p.controlPlane && p.ztunnel);
  EXPECT_THAT(p.gateways, IsEmpty());
  EXPECT_EQ(model::at(json::value(p.mergedSpec), {"components", "cni", "enabled"}), json::value(true));
  EXPECT_THAT(p.componentNames(), ElementsAre("Istio core", "Istiod", "Ztunnel"));
}

TEST(Profiles, EmptyInstallsNothing) {
  auto p = planProfile("empty");
  EXPECT_FALSE(p.base || p.controlPlane || p.ztunnel);
  EXPECT_THAT(p.gateways, IsEmpty());
  EXPECT_THAT(p.objects, IsEmpty());
  EXPECT_THAT(p.componentNames(), IsEmpty());
  EXPECT_THAT(p.namespaces, IsEmpty());
}

TEST(Profiles, ZtunnelCanBeTurnedOff) {
  auto p = plan(decode(istioOperator("  components:\n    ztunnel:\n      enabled: false\n")));
  EXPECT_FALSE(p.ztunnel);
  EXPECT_EQ(findObject(p, "DaemonSet", "ztunnel"), nullptr);
}

TEST(Profiles, RefusesProfilesWeftDoesNotKnow) {
  // The schema knows all of Istio's profiles; Weft installs five of them.
  EXPECT_EQ(planError(decode(istioOperator("  profile: remote\n"))),
            "unknown profile \"remote\": known profiles are ambient, default, demo, empty, minimal");
  EXPECT_EQ(planError({}, {.setFlags = {"profile=x"}}),
            "unknown profile \"x\": known profiles are ambient, default, demo, empty, minimal");
  EXPECT_EQ(plan({}, {.setFlags = {"profile=minimal"}}).profile, "minimal");
}

// --- merging -----------------------------------------------------------------------------

TEST(Merging, LaterFilesWinAndGatewaysMergeByName) {
  auto first =
      decode(istioOperator("  meshConfig:\n    trustDomain: first.local\n    accessLogFile: /dev/stdout\n"
                           "  components:\n    ingressGateways:\n    - name: edge\n      label:\n        istio: edge\n",
                           "first"));
  auto second =
      decode(istioOperator("  profile: default\n  meshConfig:\n    trustDomain: second.local\n"
                           "  components:\n    ingressGateways:\n    - name: edge\n      namespace: edge-system\n",
                           "second"));
  auto p = plan({first.at(0), second.at(0)});
  EXPECT_EQ(p.meshConfig.at("trustDomain"), json::value("second.local"));
  EXPECT_EQ(p.meshConfig.at("accessLogFile"), json::value("/dev/stdout"));
  EXPECT_THAT(gatewayNames(p),
              ElementsAre("istio-system/istio-ingressgateway (ingress)", "edge-system/edge (ingress)"));
  EXPECT_EQ(json::serialize(p.gateways.at(1).labels), R"({"app":"istio-ingressgateway","istio":"edge"})");
  EXPECT_THAT(p.namespaces, ElementsAre("edge-system", "istio-system"));
}

TEST(Merging, SetFlagsComeLast) {
  auto file = decode(istioOperator("  meshConfig:\n    trustDomain: file.local\n"));
  auto p = plan(file, {.setFlags = {"meshConfig.trustDomain=flag.local", "components.ztunnel.enabled=false",
                                    "spec.components.ingressGateways[name:istio-ingressgateway].enabled=false"}});
  EXPECT_EQ(p.meshConfig.at("trustDomain"), json::value("flag.local"));
  EXPECT_FALSE(p.ztunnel);
  EXPECT_THAT(p.gateways, IsEmpty());
  EXPECT_EQ(model::at(json::value(p.mergedSpec), {"meshConfig", "trustDomain"}), json::value("flag.local"));
}

TEST(Merging, SetFlagsReachTheProfilesGateways) {
  // As istioctl did up to 1.23: the flags apply to the profile and files merged.
  EXPECT_THAT(plan({}, {.setFlags = {"components.ingressGateways[0].enabled=false"}}).gateways, IsEmpty());
  auto demo = plan({}, {.setFlags = {"components.egressGateways[0].enabled=true", "profile=minimal"}});
  EXPECT_EQ(demo.profile, "minimal");
  EXPECT_THAT(gatewayNames(demo), ElementsAre("istio-system/istio-egressgateway (egress)"));
}

TEST(Merging, AnIstioOperatorWithoutSpecMeansDefaults) {
  auto p = plan(decode("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: bare\n"));
  EXPECT_EQ(p.profile, "default");
  EXPECT_TRUE(p.controlPlane);
}

TEST(Merging, AnIstioOperatorWithoutANameIsTaken) {
  // As istioctl takes it; the decoder names it after the record istioctl keeps.
  auto objects = decode("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  profile: minimal\n");
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].name(), "installed-state");
  EXPECT_EQ(plan(objects).profile, "minimal");
}

TEST(Merging, MeshConfigGetsIstiosDefaults) {
  auto p = plan({});
  EXPECT_EQ(p.meshConfig.at("trustDomain"), json::value("cluster.local"));
  EXPECT_EQ(p.meshConfig.at("accessLogFile"), json::value(""));
  EXPECT_EQ(p.meshConfig.at("rootNamespace"), json::value("istio-system"));
  EXPECT_EQ(model::at(json::value(p.meshConfig), {"outboundTrafficPolicy", "mode"}), json::value("ALLOW_ANY"));
  EXPECT_EQ(model::at(json::value(p.meshConfig), {"defaultConfig", "discoveryAddress"}),
            json::value("istiod.istio-system.svc:15012"));
}

// --- revisions ---------------------------------------------------------------------------

TEST(Revisions, TheFlagFillsAnEmptySpecRevision) {
  auto p = plan({}, {.revision = "canary"});
  EXPECT_EQ(p.revision, "canary");
  EXPECT_EQ(p.revisionLabel(), "canary");
  EXPECT_EQ(p.mergedSpec.at("revision"), json::value("canary"));
  EXPECT_NE(findObject(p, "Deployment", "weftd-canary"), nullptr);
  EXPECT_EQ(model::at(json::value(p.meshConfig), {"defaultConfig", "discoveryAddress"}),
            json::value("istiod-canary.istio-system.svc:15012"));
}

TEST(Revisions, AgreeingRevisionsAreFine) {
  auto a = decode(istioOperator("  revision: prod\n", "a"));
  auto b = decode(istioOperator("  revision: prod\n", "b"));
  EXPECT_EQ(plan({a.at(0), b.at(0)}, {.revision = "prod"}).revision, "prod");
  EXPECT_EQ(plan({a.at(0)}).revisionLabel(), "prod");
  EXPECT_EQ(plan({}).revisionLabel(), "default");
}

TEST(Revisions, ConflictsAreErrors) {
  auto a = decode(istioOperator("  revision: prod\n", "a"), "a.yaml");
  auto b = decode(istioOperator("  revision: canary\n", "b"), "b.yaml");
  EXPECT_EQ(planError({a.at(0), b.at(0)}),
            "b.yaml:7: spec.revision \"canary\" conflicts with spec.revision \"prod\" in a.yaml:7");
  EXPECT_EQ(planError({a.at(0)}, {.revision = "canary"}),
            "--revision \"canary\" conflicts with spec.revision \"prod\" in a.yaml:7");
  EXPECT_EQ(planError({}, {.revision = "canary", .setFlags = {"revision=prod"}}),
            "--revision \"canary\" conflicts with spec.revision \"prod\" in --set");
}

TEST(Revisions, MustBeUsableInNames) {
  EXPECT_EQ(planError({}, {.revision = "Prod"}),
            "invalid revision: \"Prod\" must consist of lower case alphanumeric characters or '-'");
  EXPECT_EQ(planError({}, {.revision = std::string(57, 'r')}),
            "invalid revision: \"" + std::string(57, 'r') +
                "\" must be no more than 56 characters (istiod-<revision> names a Service)");
  EXPECT_EQ(planError({}, {.revision = "default"}),
            "invalid revision: \"default\" names the install without a revision; leave the revision out instead");
}

// --- bad inputs --------------------------------------------------------------------------

TEST(BadInputs, OnlyIstioOperatorsAreTaken) {
  auto objects = decode("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n", "cm.yaml");
  EXPECT_EQ(planError(objects),
            "cm.yaml:1: ConfigMap default/c is not an IstioOperator: weft install reads IstioOperator resources only");
}

TEST(BadInputs, UnknownComponents) {
  // In a file, the decoder refuses the field where it sits.
  auto decoded = model::decodeYaml(istioOperator("  components:\n    foo:\n      enabled: true\n"), "iop.yaml", {});
  EXPECT_THAT(decoded.errors, ElementsAre("iop.yaml:8:5: spec.components.foo: unknown field"));
  EXPECT_EQ(planError({}, {.setFlags = {"components.foo.enabled=true"}}),
            "--set: spec.components.foo: unknown component \"foo\": known components are base, pilot, cni, ztunnel, "
            "istiodRemote, ingressGateways, egressGateways");
}

TEST(BadInputs, SetFlagsAreCheckedAgainstTheSchema) {
  EXPECT_EQ(planError({}, {.setFlags = {"components.pilot.enabled=yes"}}),
            "--set: spec.components.pilot.enabled: must be a boolean, not string \"yes\"");
  EXPECT_EQ(planError({}, {.setFlags = {"meshConfig.outboundTrafficPolicy.mode=SOMETIMES"}}),
            "--set: spec.meshConfig.outboundTrafficPolicy.mode: unsupported value \"SOMETIMES\": must be one of "
            "REGISTRY_ONLY, "
            "ALLOW_ANY, ALLOW_ANY_DYNAMIC_DNS");
  EXPECT_EQ(planError({}, {.setFlags = {"meshConfig.trustDomain"}}),
            "--set \"meshConfig.trustDomain\": expected path=value");
  EXPECT_EQ(planError({}, {.setFlags = {"meshConfig.trustDomain=a", "meshConfig.trustDomain.x=1"}}),
            "--set \"meshConfig.trustDomain.x=1\": meshConfig.trustDomain is a string, not an object");
}

TEST(BadInputs, GatewaysNeedAName) {
  EXPECT_EQ(planError({}, {.setFlags = {"components.egressGateways[1].enabled=true"}}),
            "--set: spec.components.egressGateways[1].name: required value is missing");
  // A subdomain passes the schema but cannot name a Service.
  auto dotted = decode(istioOperator("  components:\n    ingressGateways:\n    - name: edge.gateway\n"));
  EXPECT_EQ(planError(dotted),
            "spec.components.ingressGateways[1].name: \"edge.gateway\" must consist of lower case alphanumeric "
            "characters or '-' "
            "(the name becomes the gateway's Deployment and Service)");
}

TEST(BadInputs, GatewayNamespacesAreDnsLabels) {
  auto decoded = model::decodeYaml(
      istioOperator("  components:\n    ingressGateways:\n    - name: edge\n      namespace: Edge_NS\n"), "iop.yaml",
      {});
  EXPECT_THAT(decoded.errors,
              ElementsAre("iop.yaml:10:18: spec.components.ingressGateways[0].namespace: \"Edge_NS\" must consist "
                          "of lower case alphanumeric characters or '-'"));
  EXPECT_EQ(planError({}, {.setFlags = {"components.ingressGateways[0].name=edge",
                                        "components.ingressGateways[0].namespace=a.b"}}),
            "--set: spec.components.ingressGateways[0].namespace: \"a.b\" must consist of lower case alphanumeric "
            "characters or '-'");
}

TEST(BadInputs, TwoGatewaysCannotShareANameAndNamespace) {
  auto file = decode(
      istioOperator("  components:\n    ingressGateways:\n    - name: edge\n    egressGateways:\n    - name: edge\n"));
  EXPECT_EQ(
      planError(file),
      "spec.components.egressGateways[1]: another gateway is already named \"edge\" in namespace \"istio-system\"");
}

TEST(BadInputs, WhatWeftCannotDoIsRefused) {
  EXPECT_EQ(
      planError({}, {.setFlags = {"components.pilot.namespace=control"}}),
      "spec.components.pilot.namespace: Weft runs its control plane and ztunnel in istio-system, not \"control\"");
  EXPECT_EQ(planError({}, {.setFlags = {"components.istiodRemote.enabled=true"}}),
            "spec.components.istiodRemote: a remote control plane is not supported by weft install");
  auto overlays =
      decode(istioOperator("  components:\n    pilot:\n      k8s:\n        overlays:\n        - kind: Deployment\n     "
                           "     name: istiod\n"));
  EXPECT_EQ(
      planError(overlays),
      "spec.components.pilot.k8s.overlays: not supported by weft install (Weft's objects differ from Istio's charts); "
      "change the installed objects with `weft apply` instead");
}

}  // namespace
}  // namespace weft::install
