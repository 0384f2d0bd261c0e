// The objects a plan renders: valid for their kinds' schemas (checked by writing them as
// YAML and decoding them, as `weft apply` would read them), labelled, and shaped as the
// control plane, ztunnel and gateways expect.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "install/install_plan.h"
#include "install/test_support.h"
#include "model/json_access.h"
#include "model/yaml_writer.h"

namespace weft::install {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using namespace testing;  // NOLINT: the helpers of this library's tests

void expectDecodes(const model::Object& object) {
  std::string yaml = model::toYaml(object.value());
  auto decoded = model::decodeYaml(yaml, object.friendlyName(), {});
  for (const auto& error : decoded.errors) ADD_FAILURE() << error << "\n" << yaml;
  ASSERT_EQ(decoded.objects.size(), 1u);
  EXPECT_EQ(decoded.objects[0].value(), object.value())
      << "decoding must not change the object (no defaults were missing)";
}

std::string envOf(const model::Object& workload, std::string_view name) {
  const auto& env = model::at(workload.value(), {"spec", "template", "spec", "containers"}).at(0).at("env");
  for (const auto& entry : env.as_array()) {
    if (entry.at("name") == json::value(name)) {
      const auto* value = entry.as_object().if_contains("value");
      return value ? std::string(value->as_string()) : json::serialize(entry.at("valueFrom"));
    }
  }
  return "<unset>";
}

TEST(RenderedObjects, EveryProfileRendersValidObjects) {
  for (std::string profile : {"default", "minimal", "demo", "ambient", "empty"}) {
    for (std::string revision : {"", "canary"}) {
      SCOPED_TRACE(profile + " " + revision);
      auto p = plan(decode(istioOperator("  profile: " + profile + "\n")), {.revision = revision});
      for (const auto& o : p.objects) {
        SCOPED_TRACE(o.friendlyName());
        expectDecodes(o);
        EXPECT_EQ(o.label("app.kubernetes.io/managed-by"), "weft-install");
        EXPECT_EQ(o.label("istio.io/rev"), revision.empty() ? "default" : revision);
        EXPECT_THAT(o.label("operator.istio.io/component"),
                    ::testing::AnyOf("Base", "Pilot", "Ztunnel", "IngressGateways", "EgressGateways"));
      }
      expectDecodes(installedState(p));
    }
  }
}

TEST(RenderedObjects, DefaultProfileObjects) {
  auto p = plan({}, {.weftVersion = "9.9.9"});
  EXPECT_THAT(
      objectNames(p),
      ElementsAre("ServiceAccount istio-system/istio-reader-service-account", "ConfigMap istio-system/istio",
                  "ServiceAccount istio-system/istiod", "Service istio-system/istiod", "Deployment istio-system/weftd",
                  "ServiceAccount istio-system/istio-ingressgateway-service-account",
                  "Service istio-system/istio-ingressgateway", "Deployment istio-system/istio-ingressgateway",
                  "ServiceAccount istio-system/ztunnel", "DaemonSet istio-system/ztunnel"));

  const auto& istiod = *findObject(p, "Deployment", "weftd");
  EXPECT_EQ(istiod.label("app"), "istiod");
  EXPECT_EQ(istiod.label("operator.istio.io/component"), "Pilot");
  EXPECT_EQ(model::at(istiod.value(), {"spec", "replicas"}), json::value(1));
  EXPECT_EQ(json::serialize(model::at(istiod.value(), {"spec", "selector"})),
            R"({"matchLabels":{"app":"istiod","istio.io/rev":"default"}})");
  const auto& discovery = model::at(istiod.value(), {"spec", "template", "spec", "containers"}).at(0);
  EXPECT_EQ(discovery.at("name"), json::value("discovery"));
  EXPECT_EQ(discovery.at("image"), json::value("docker.io/weft/weftd:9.9.9"));
  EXPECT_EQ(json::serialize(discovery.at("args")), R"(["--revision","default"])");
  EXPECT_EQ(envOf(istiod, "REVISION"), "default");
  EXPECT_EQ(envOf(istiod, "POD_NAME"), R"({"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}})");

  const auto& service = *findObject(p, "Service", "istiod");
  EXPECT_EQ(json::serialize(model::at(service.value(), {"spec", "ports"})),
            R"([{"name":"grpc-xds","port":15012,"targetPort":15012,"protocol":"TCP"},)"
            R"({"name":"http-monitoring","port":15014,"targetPort":15014,"protocol":"TCP"}])");
  EXPECT_EQ(json::serialize(model::at(service.value(), {"spec", "selector"})),
            R"({"app":"istiod","istio.io/rev":"default"})");

  const auto& ingress = *findObject(p, "Service", "istio-ingressgateway");
  EXPECT_EQ(model::at(ingress.value(), {"spec", "type"}), json::value("LoadBalancer"));
  EXPECT_EQ(json::serialize(model::at(ingress.value(), {"spec", "selector"})),
            R"({"app":"istio-ingressgateway","istio":"ingressgateway"})");
  EXPECT_EQ(ingress.label("operator.istio.io/component"), "IngressGateways");
  const auto& proxy = *findObject(p, "Deployment", "istio-ingressgateway");
  const auto& container = model::at(proxy.value(), {"spec", "template", "spec", "containers"}).at(0);
  EXPECT_EQ(container.at("image"), json::value("docker.io/weft/proxy:9.9.9"));
  EXPECT_EQ(json::serialize(container.at("args")), R"(["gateway"])");
  EXPECT_EQ(model::at(proxy.value(), {"spec", "template", "spec", "serviceAccountName"}),
            json::value("istio-ingressgateway-service-account"));
  EXPECT_EQ(envOf(proxy, "XDS_ADDRESS"), "istiod.istio-system.svc:15012");

  const auto& ztunnel = *findObject(p, "DaemonSet", "ztunnel");
  EXPECT_EQ(model::at(ztunnel.value(), {"spec", "template", "spec", "hostNetwork"}), json::value(true));
  EXPECT_EQ(model::at(ztunnel.value(), {"spec", "template", "spec", "containers"}).at(0).at("image"),
            json::value("docker.io/weft/ztunnel:9.9.9"));
  EXPECT_EQ(envOf(ztunnel, "NODE_NAME"), R"({"fieldRef":{"apiVersion":"v1","fieldPath":"spec.nodeName"}})");
  EXPECT_EQ(envOf(ztunnel, "INSTANCE_IP"), R"({"fieldRef":{"apiVersion":"v1","fieldPath":"status.podIP"}})");
  EXPECT_EQ(envOf(ztunnel, "CA_ADDRESS"), "istiod.istio-system.svc:15012");
  EXPECT_EQ(ztunnel.label("app"), "ztunnel");
}

TEST(RenderedObjects, TheMeshConfigMapHoldsTheEffectiveMeshConfig) {
  auto p = plan(decode(istioOperator("  meshConfig:\n    trustDomain: acme.local\n")), {.revision = "blue"});
  const auto* configMap = findObject(p, "ConfigMap", "istio-blue");
  ASSERT_NE(configMap, nullptr);
  const auto& data = model::at(configMap->value(), {"data"});
  auto mesh = model::readYamlDocuments(std::string(data.at("mesh").as_string()), "mesh");
  ASSERT_TRUE(mesh.ok()) << mesh.error().message;
  EXPECT_EQ(mesh->at(0).value, json::value(p.meshConfig));
  EXPECT_EQ(data.at("meshNetworks"), json::value("networks: {}"));
}

TEST(RenderedObjects, ComponentKubernetesSettingsApply) {
  auto file = decode(istioOperator(R"(  components:
    pilot:
      k8s:
        replicaCount: 2
        env:
        - name: REVISION
          value: overridden
        - name: EXTRA
          value: "1"
        resources:
          requests:
            cpu: 500m
        podAnnotations:
          example.com/note: hello
        service:
          type: NodePort
    ingressGateways:
    - name: istio-ingressgateway
      k8s:
        nodeSelector:
          edge: "true"
        serviceAnnotations:
          example.com/lb: internal
        service:
          ports:
          - name: http
            port: 8080
            targetPort: 8081
)"));
  auto p = plan(file);
  const auto& istiod = *findObject(p, "Deployment", "weftd");
  EXPECT_EQ(model::at(istiod.value(), {"spec", "replicas"}), json::value(2));
  EXPECT_EQ(envOf(istiod, "REVISION"), "overridden");
  EXPECT_EQ(envOf(istiod, "EXTRA"), "1");
  EXPECT_EQ(
      json::serialize(model::at(istiod.value(), {"spec", "template", "spec", "containers"}).at(0).at("resources")),
      R"({"requests":{"cpu":"500m"}})");
  EXPECT_EQ(json::serialize(model::at(istiod.value(), {"spec", "template", "metadata", "annotations"})),
            R"({"example.com/note":"hello"})");
  EXPECT_EQ(model::at(findObject(p, "Service", "istiod")->value(), {"spec", "type"}), json::value("NodePort"));

  const auto& gatewayService = *findObject(p, "Service", "istio-ingressgateway");
  EXPECT_EQ(json::serialize(model::at(gatewayService.value(), {"spec", "ports"})),
            R"([{"name":"http","port":8080,"targetPort":8081}])");
  EXPECT_EQ(gatewayService.annotations().at("example.com/lb"), json::value("internal"));
  const auto& gateway = *findObject(p, "Deployment", "istio-ingressgateway");
  EXPECT_EQ(json::serialize(model::at(gateway.value(), {"spec", "template", "spec", "nodeSelector"})),
            R"({"edge":"true"})");
  EXPECT_EQ(json::serialize(model::at(gateway.value(), {"spec", "template", "spec", "containers"}).at(0).at("ports")),
            R"([{"containerPort":8081,"protocol":"TCP"},{"containerPort":15020,"protocol":"TCP","name":"http-stats"},)"
            R"({"containerPort":15021,"protocol":"TCP","name":"status-port"}])");
  for (const auto& o : p.objects) expectDecodes(o);
}

TEST(RenderedObjects, BadKubernetesSettingsAreReportedAgainstTheRenderedObject) {
  auto file =
      decode(istioOperator("  components:\n    pilot:\n      k8s:\n        service:\n          type: Sideways\n"));
  EXPECT_EQ(
      planError(file),
      "the rendered Service istio-system/istiod is invalid (check the component's k8s settings):\n"
      "Service istio-system/istiod: spec.type: unsupported value \"Sideways\": must be one of ClusterIP, NodePort, "
      "LoadBalancer, ExternalName");
}

TEST(RenderedObjects, InstalledStateRecordsTheMergedSpec) {
  auto p = plan(decode(istioOperator("  profile: minimal\n")), {.revision = "prod"});
  auto state = installedState(p);
  EXPECT_EQ(state.friendlyName(), "IstioOperator istio-system/installed-state-prod");
  EXPECT_EQ(state.apiVersion(), "install.istio.io/v1alpha1");
  EXPECT_EQ(state.field("spec"), json::value(p.mergedSpec));
  EXPECT_EQ(model::at(state.value(), {"spec", "profile"}), json::value("minimal"));
  EXPECT_EQ(model::at(state.value(), {"spec", "revision"}), json::value("prod"));
  EXPECT_EQ(installedState(plan({})).name(), "installed-state");
  expectDecodes(state);
}

}  // namespace
}  // namespace weft::install
