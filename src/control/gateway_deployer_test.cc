// weftd's gateway controller: what it creates, updates, deletes and reports for Gateway API
// Gateways, and that a pass over its own writes plans nothing.
#include "control/gateway_deployer.h"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/decoder.h"
#include "model/json_access.h"
#include "store/local_store.h"

namespace weft::control {
namespace {

namespace json = boost::json;
using model::at;
using model::stringAt;

void decodeInto(ObjectsByKind& out, const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {"", false});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  for (auto& o : decoded.objects) out[o.key().kind].push_back(std::move(o));
}

constexpr const char* kNow = "2026-01-01T00:00:00Z";

const char* kWebGateway = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: apps, generation: 2}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP}
)";

const char* kClasses = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio}
spec: {controllerName: istio.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio-waypoint}
spec: {controllerName: istio.io/mesh-controller}
)";

std::vector<std::string> names(const std::vector<model::Object>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.friendlyName());
  return out;
}

// The objects as the store would hold them after the plan's creations, with what the
// local cluster fills in on a Service.
void created(ObjectsByKind& objects, const GatewayDeploymentPlan& plan) {
  for (auto o : plan.create) {
    if (o.kind() == "Service") {
      auto& spec = o.mutableValue().as_object()["spec"].as_object();
      spec["clusterIP"] = "198.19.0.9";
      for (auto& p : spec["ports"].as_array()) p.as_object()["nodePort"] = 30000 + p.at("port").as_int64() % 1000;
      o.mutableValue().as_object()["status"] = json::parse(R"({"loadBalancer":{"ingress":[{"ip":"127.0.0.1"}]}})");
    }
    objects[o.key().kind].push_back(std::move(o));
  }
}

TEST(GatewayDeployer, MakesTheGatewayClassesWhenMissingAndNeverTouchesExistingOnes) {
  ObjectsByKind objects;
  auto plan = planGatewayDeployment(objects, "default", "0.1.0", kNow);
  EXPECT_THAT(names(plan.create), ::testing::ElementsAre("GatewayClass istio", "GatewayClass istio-waypoint"));
  decodeInto(objects, kClasses);
  EXPECT_TRUE(planGatewayDeployment(objects, "default", "0.1.0", kNow).create.empty());
}

TEST(GatewayDeployer, AnIstioGatewayGetsItsObjectsThenNothingMore) {
  ObjectsByKind objects;
  decodeInto(objects, kClasses);
  decodeInto(objects, kWebGateway);
  auto plan = planGatewayDeployment(objects, "default", "0.1.0", kNow);
  EXPECT_THAT(names(plan.create), ::testing::ElementsAre("ServiceAccount apps/web-istio", "Service apps/web-istio", "Deployment apps/web-istio"));
  EXPECT_TRUE(plan.update.empty());
  EXPECT_TRUE(plan.remove.empty());
  // No Service yet: accepted, not programmed.
  ASSERT_EQ(plan.statuses.size(), 1u);
  const auto& status = plan.statuses[0].status;
  EXPECT_EQ(at(status, {"conditions"}).as_array()[0].at("type"), "Accepted");
  EXPECT_EQ(at(status, {"conditions"}).as_array()[1].at("status"), "False");
  EXPECT_EQ(at(status, {"conditions"}).as_array()[1].at("reason"), "AddressNotAssigned");

  created(objects, plan);
  auto next = planGatewayDeployment(objects, "default", "0.1.0", kNow);
  EXPECT_TRUE(next.create.empty());
  EXPECT_TRUE(next.update.empty()) << "the cluster's clusterIP and nodePorts are not differences";
  EXPECT_TRUE(next.remove.empty());
  ASSERT_EQ(next.statuses.size(), 1u);
  const auto& programmed = next.statuses[0].status;
  EXPECT_EQ(at(programmed, {"addresses"}), json::parse(R"([{"type":"IPAddress","value":"127.0.0.1"}])"));
  const auto& condition = at(programmed, {"conditions"}).as_array()[1];
  EXPECT_EQ(condition.at("type"), "Programmed");
  EXPECT_EQ(condition.at("status"), "True");
  EXPECT_EQ(condition.at("observedGeneration"), 2);

  // The status written, a later pass (another time) leaves it alone.
  auto& gateway = objects["Gateway.gateway.networking.k8s.io"][0];
  gateway.mutableValue().as_object()["status"] = programmed;
  EXPECT_TRUE(planGatewayDeployment(objects, "default", "0.1.0", "2026-02-02T00:00:00Z").statuses.empty());
}

TEST(GatewayDeployer, ListenerChangesUpdateTheServiceKeepingItsNodePorts) {
  ObjectsByKind objects;
  decodeInto(objects, kClasses);
  decodeInto(objects, kWebGateway);
  created(objects, planGatewayDeployment(objects, "default", "0.1.0", kNow));
  auto& gateway = objects["Gateway.gateway.networking.k8s.io"][0];
  gateway.mutableValue().as_object()["spec"].as_object()["listeners"].as_array().push_back(
      json::parse(R"({"name":"alt","port":8081,"protocol":"HTTP"})"));
  auto plan = planGatewayDeployment(objects, "default", "0.1.0", kNow);
  EXPECT_THAT(names(plan.update), ::testing::ElementsAre("Service apps/web-istio", "Deployment apps/web-istio"));
  const model::Object* current = nullptr;
  for (const auto& o : objects["Service"]) current = &o;
  auto merged = mergeManagedObject(current->value(), plan.update[0].value());
  EXPECT_EQ(stringAt(merged, {"spec", "clusterIP"}), "198.19.0.9");
  const auto& ports = at(merged, {"spec", "ports"}).as_array();
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_EQ(ports[1].at("nodePort"), 30080) << "port 80 keeps its node port";
  EXPECT_EQ(ports[2].as_object().if_contains("nodePort"), nullptr) << "the new port gets one from the cluster";
  EXPECT_EQ(at(merged, {"status"}), at(current->value(), {"status"}));
}

TEST(GatewayDeployer, ObjectsOfADeletedGatewayAreRemoved) {
  ObjectsByKind objects;
  decodeInto(objects, kClasses);
  decodeInto(objects, kWebGateway);
  created(objects, planGatewayDeployment(objects, "default", "0.1.0", kNow));
  objects["Gateway.gateway.networking.k8s.io"].clear();
  auto plan = planGatewayDeployment(objects, "default", "0.1.0", kNow);
  ASSERT_EQ(plan.remove.size(), 3u);
  for (const auto& key : plan.remove) EXPECT_EQ(key.name, "web-istio");
}

TEST(GatewayDeployer, OtherClassesAreNotDeployed) {
  ObjectsByKind objects;
  decodeInto(objects, kClasses);
  decodeInto(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: other, namespace: apps}
spec:
  gatewayClassName: nginx
  listeners: [{name: http, port: 80, protocol: HTTP}]
)");
  auto plan = planGatewayDeployment(objects, "default", "0.1.0", kNow);
  EXPECT_TRUE(plan.create.empty());
  EXPECT_TRUE(plan.statuses.empty()) << "another controller's Gateway gets no status from weftd";
}

TEST(GatewayDeployer, WaypointsAreDeployedUnderTheirOwnName) {
  ObjectsByKind objects;
  decodeInto(objects, kClasses);
  decodeInto(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: apps}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
)");
  auto plan = planGatewayDeployment(objects, "default", "0.1.0", kNow);
  EXPECT_THAT(names(plan.create), ::testing::ElementsAre("ServiceAccount apps/waypoint", "Service apps/waypoint", "Deployment apps/waypoint"));
}

TEST(GatewayDeployer, TheRevisionLabelOrTheFirstInstalledRevisionDecidesWhoDeploys) {
  ObjectsByKind objects;
  decodeInto(objects, kClasses);
  decodeInto(objects, kWebGateway);
  decodeInto(objects, R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: weftd-canary, namespace: istio-system, labels: {app: istiod, istio.io/rev: canary}}
spec:
  selector: {matchLabels: {app: istiod}}
  template:
    metadata: {labels: {app: istiod}}
    spec: {containers: [{name: discovery, image: docker.io/weft/weftd:0.1.0}]}
)");
  // canary and prod installed, no default: the unlabelled Gateway is canary's.
  EXPECT_EQ(planGatewayDeployment(objects, "canary", "0.1.0", kNow).create.size(), 3u);
  EXPECT_TRUE(planGatewayDeployment(objects, "prod", "0.1.0", kNow).create.empty());

  auto& gateway = objects["Gateway.gateway.networking.k8s.io"][0];
  gateway.mutableMetadata()["labels"] = json::object{{"istio.io/rev", "prod"}};
  auto prod = planGatewayDeployment(objects, "prod", "0.1.0", kNow);
  ASSERT_EQ(prod.create.size(), 3u);
  EXPECT_EQ(prod.create[2].label("istio.io/rev"), "prod");
  EXPECT_TRUE(planGatewayDeployment(objects, "canary", "0.1.0", kNow).create.empty());
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

const json::value* plannedStatus(const GatewayDeploymentPlan& plan, const std::string& name) {
  for (const auto& s : plan.statuses) {
    if (s.object.name == name) return &s.status;
  }
  return nullptr;
}

TEST(GatewayDeployer, IstiosIngressesShowTheAddressOfTheMeshsIngressService) {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec: {type: LoadBalancer, selector: {istio: ingressgateway}, ports: [{port: 80}]}
status: {loadBalancer: {ingress: [{ip: 198.18.9.1}]}}
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: istio-system}
spec: {type: LoadBalancer, selector: {istio: edge}, ports: [{port: 80}]}
status: {loadBalancer: {ingress: [{ip: 198.18.9.2}]}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: annotated, namespace: shop, annotations: {kubernetes.io/ingress.class: istio}}
spec:
  rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: classless, namespace: shop}
spec:
  rules: [{host: b.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
)");
  auto plan = planGatewayDeployment(objects, "default", "0.1.0", kNow);
  const auto* status = plannedStatus(plan, "annotated");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(at(*status, {"loadBalancer", "ingress"}).as_array().at(0).at("ip"), "198.18.9.1") << "ingressService's default, istio-ingressgateway";
  EXPECT_EQ(plannedStatus(plan, "classless"), nullptr) << "STRICT, Istio's default: not Istio's Ingress";

  weft::v1::MeshConfig mesh;
  mesh.set_ingress_service("edge");
  mesh.set_ingress_controller_mode("DEFAULT");
  auto edge = planGatewayDeployment(objects, "default", "0.1.0", kNow, {}, mesh);
  ASSERT_NE(plannedStatus(edge, "annotated"), nullptr);
  EXPECT_EQ(at(*plannedStatus(edge, "annotated"), {"loadBalancer", "ingress"}).as_array().at(0).at("ip"), "198.18.9.2");
  ASSERT_NE(plannedStatus(edge, "classless"), nullptr) << "DEFAULT serves it";
  EXPECT_EQ(at(*plannedStatus(edge, "classless"), {"loadBalancer", "ingress"}).as_array().at(0).at("ip"), "198.18.9.2");
}

TEST(GatewayDeployer, AnIngressThatStopsBeingIstiosLosesTheAddressItWasShown) {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec: {type: LoadBalancer, selector: {istio: ingressgateway}, ports: [{port: 80}]}
status: {loadBalancer: {ingress: [{ip: 198.18.9.1}]}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: was-ours, namespace: shop}
spec:
  rules: [{host: b.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
status: {loadBalancer: {ingress: [{ip: 198.18.9.1}]}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: someone-elses, namespace: shop, annotations: {kubernetes.io/ingress.class: nginx}}
spec:
  rules: [{host: c.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
status: {loadBalancer: {ingress: [{ip: 203.0.113.7}]}}
)");
  // STRICT (the default) no longer serves the classless Ingress that DEFAULT did.
  auto plan = planGatewayDeployment(objects, "default", "0.1.0", kNow);
  const auto* cleared = plannedStatus(plan, "was-ours");
  ASSERT_NE(cleared, nullptr);
  EXPECT_EQ(*cleared, json::parse(R"({"loadBalancer":{}})"));
  EXPECT_EQ(plannedStatus(plan, "someone-elses"), nullptr) << "another controller's address is not ours to take back";
  for (const auto& s : plan.statuses) {
    if (s.object.name != "was-ours") continue;
    ASSERT_TRUE(s.onlyOver.has_value()) << "written only over the address it showed, not over what came since";
    EXPECT_EQ(at(*s.onlyOver, {"loadBalancer", "ingress"}).as_array().at(0).at("ip"), "198.18.9.1");
  }
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

// Against a real store in a temporary folder: a status taken back is written only over the
// status it was planned against.
TEST(GatewayDeployer, ATakenBackAddressIsNotWrittenOverWhatAnotherControllerWroteSince) {
  auto root = std::filesystem::temp_directory_path() / fmt::format("weft-deployer-test-{}", ::getpid());
  std::filesystem::remove_all(root);
  auto store = store::LocalStore::open(root);
  ASSERT_TRUE(store) << store.error().message;
  auto decoded = model::decodeYaml(R"(
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: moved, namespace: shop}
spec:
  rules: [{host: b.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
)", "test.yaml", {"", false});
  ASSERT_TRUE(decoded.errors.empty());
  auto applied = store->apply(std::move(decoded.objects));
  ASSERT_TRUE(applied) << applied.error().message;
  model::ObjectKey key{"Ingress.networking.k8s.io", "shop", "moved"};
  auto setStatus = [&](const char* ip) {
    ASSERT_TRUE(store->update(key, [ip](json::value& current) -> Status {
      current.as_object()["status"] = json::object{{"loadBalancer", json::object{{"ingress", json::array{json::object{{"ip", ip}}}}}}};
      return {};
    }));
  };
  auto statusNow = [&] { return at((*store->get(key))->value(), {"status"}); };
  setStatus("203.0.113.7");  // another controller's, written after weftd planned
  json::value planned = json::parse(R"({"loadBalancer":{"ingress":[{"ip":"198.18.9.1"}]}})");
  GatewayDeploymentPlan plan;
  plan.statuses.push_back({key, json::parse(R"({"loadBalancer":{}})"), planned});
  applyGatewayDeployment(*store, plan);
  EXPECT_EQ(at(statusNow(), {"loadBalancer", "ingress"}).as_array().at(0).at("ip"), "203.0.113.7");
  setStatus("198.18.9.1");  // still the address it showed: taken back
  applyGatewayDeployment(*store, plan);
  EXPECT_EQ(statusNow(), json::parse(R"({"loadBalancer":{}})"));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace weft::control
