// The Gateway API's automated deployment: names, labels and ports as Istio renders them,
// the role weft-proxy is started in, and objects their kinds' schemas accept.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "install/managed_gateway_objects.h"
#include "model/decoder.h"
#include "model/json_access.h"
#include "model/yaml_writer.h"

namespace weft::install {
namespace {

namespace json = boost::json;
using model::at;
using model::stringAt;

ManagedGateway ingress() {
  return {.name = "web",
          .ns = "apps",
          .className = "istio",
          .revision = "prod",
          .listeners = json::parse(R"([{"name":"http","port":80,"protocol":"HTTP"},
                                       {"name":"http-alt","port":80,"protocol":"HTTP","hostname":"a.example.com"},
                                       {"name":"https","port":443,"protocol":"HTTPS"}])")
                           .as_array()};
}

ManagedGateway waypoint() {
  return {.name = "waypoint",
          .ns = "apps",
          .className = "istio-waypoint",
          .revision = "",
          .listeners = json::parse(R"([{"name":"mesh","port":15008,"protocol":"HBONE"}])").as_array()};
}

const model::Object& find(const std::vector<model::Object>& objects, std::string_view kind) {
  for (const auto& o : objects) {
    if (o.kind() == kind) return o;
  }
  throw std::runtime_error("no " + std::string(kind));
}

void expectDecodes(const model::Object& object) {
  std::string yaml = model::toYaml(object.value());
  auto decoded = model::decodeYaml(yaml, object.friendlyName(), {});
  for (const auto& error : decoded.errors) ADD_FAILURE() << error << "\n" << yaml;
  ASSERT_EQ(decoded.objects.size(), 1u);
  EXPECT_EQ(decoded.objects[0].value(), object.value());
}

TEST(ManagedGatewayObjects, IngressClassIsNamedAfterTheGatewayWithIstioSuffix) {
  auto objects = managedGatewayObjects(ingress(), "1.2.3");
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[0].kind(), "ServiceAccount");  // before the Deployment that uses it
  for (const auto& o : objects) {
    SCOPED_TRACE(o.friendlyName());
    expectDecodes(o);
    EXPECT_EQ(o.name(), "web-istio");
    EXPECT_EQ(o.ns(), "apps");
    EXPECT_EQ(o.label("gateway.networking.k8s.io/gateway-name"), "web");
    EXPECT_EQ(o.label("gateway.istio.io/managed"), "istio.io-gateway-controller");
    EXPECT_EQ(o.label("istio.io/rev"), "prod");
  }
}

TEST(ManagedGatewayObjects, IngressServiceIsALoadBalancerWithOnePortPerListenerPort) {
  auto objects = managedGatewayObjects(ingress(), "1.2.3");
  const auto& service = find(objects, "Service");
  EXPECT_EQ(stringAt(service.value(), {"spec", "type"}), "LoadBalancer");
  EXPECT_EQ(at(service.value(), {"spec", "selector"}),
            json::parse(R"({"gateway.networking.k8s.io/gateway-name":"web","gateway.weft.dev/namespace":"apps"})"));
  EXPECT_EQ(at(service.value(), {"spec", "ports"}), json::parse(R"([
      {"name":"status-port","port":15021,"targetPort":15021,"protocol":"TCP","appProtocol":"tcp"},
      {"name":"http","port":80,"targetPort":80,"protocol":"TCP","appProtocol":"http"},
      {"name":"https","port":443,"targetPort":443,"protocol":"TCP","appProtocol":"https"}])"));
}

TEST(ManagedGatewayObjects, IngressPodsRunTheGatewayRoleOfTheirRevisionOutsideTheMesh) {
  auto objects = managedGatewayObjects(ingress(), "1.2.3");
  const auto& deployment = find(objects, "Deployment");
  const auto& pod = at(deployment.value(), {"spec", "template"});
  EXPECT_EQ(stringAt(pod, {"metadata", "labels", "gateway.networking.k8s.io/gateway-name"}), "web");
  EXPECT_EQ(stringAt(pod, {"metadata", "labels", "istio.io/dataplane-mode"}), "none");
  EXPECT_EQ(at(deployment.value(), {"spec", "selector", "matchLabels"}), at(find(objects, "Service").value(), {"spec", "selector"}));
  const auto& container = at(pod, {"spec", "containers"}).as_array().at(0);
  EXPECT_EQ(stringAt(container, {"image"}), "docker.io/weft/proxy:1.2.3");
  EXPECT_EQ(at(container, {"args"}), json::parse(R"(["gateway"])"));
  std::vector<int64_t> ports;
  for (const auto& p : at(container, {"ports"}).as_array()) ports.push_back(p.at("containerPort").as_int64());
  EXPECT_THAT(ports, ::testing::ElementsAre(15021, 80, 443, 15020));
  bool xds = false;
  for (const auto& e : at(container, {"env"}).as_array()) {
    if (e.at("name") == "XDS_ADDRESS") xds = e.at("value") == "istiod-prod.istio-system.svc:15012";
  }
  EXPECT_TRUE(xds) << "the gateway talks to the control plane of its revision";
  EXPECT_EQ(stringAt(pod, {"spec", "serviceAccountName"}), "web-istio");
}

TEST(ManagedGatewayObjects, WaypointKeepsTheGatewayNameAndRunsTheWaypointRole) {
  auto objects = managedGatewayObjects(waypoint(), "1.2.3");
  for (const auto& o : objects) {
    SCOPED_TRACE(o.friendlyName());
    expectDecodes(o);
    EXPECT_EQ(o.name(), "waypoint");
    EXPECT_EQ(o.label("gateway.istio.io/managed"), "istio.io-mesh-controller");
    EXPECT_EQ(o.label("istio.io/rev"), "default");
  }
  const auto& service = find(objects, "Service");
  EXPECT_EQ(stringAt(service.value(), {"spec", "type"}), "ClusterIP");
  EXPECT_EQ(at(service.value(), {"spec", "ports"}),
            json::parse(R"([{"name":"mesh","port":15008,"targetPort":15008,"protocol":"TCP","appProtocol":"all"}])"));
  const auto& container = at(find(objects, "Deployment").value(), {"spec", "template", "spec", "containers"}).as_array().at(0);
  EXPECT_EQ(at(container, {"args"}), json::parse(R"(["waypoint"])"));
}

TEST(ManagedGatewayObjects, OnlyIstioClassesAreDeployed) {
  EXPECT_TRUE(isManagedGatewayClass("istio"));
  EXPECT_TRUE(isManagedGatewayClass("istio-waypoint"));
  EXPECT_FALSE(isManagedGatewayClass("istio-remote"));
  EXPECT_FALSE(isManagedGatewayClass("nginx"));
}

}  // namespace
}  // namespace weft::install
