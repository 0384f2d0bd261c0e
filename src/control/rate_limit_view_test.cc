#include "control/rate_limit_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/proxy_view.h"
#include "model/decoder.h"

namespace weft::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

void decodeInto(ObjectsByKind& out, const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  for (auto& o : decoded.objects) out[o.key().kind].push_back(std::move(o));
}

const char* kTargets = R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: my-gateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [example.com]}]
---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: istio-system}
spec:
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080}]
)";

RegistryBuild compile(const std::string& policies) {
  ObjectsByKind objects;
  decodeInto(objects, kTargets);
  decodeInto(objects, policies);
  RegistryBuild build;
  addRateLimitPolicies(objects, build);
  return build;
}

TEST(RateLimitView, LocalPolicyOnAGatewayAndAService) {
  auto b = compile(R"(
apiVersion: policy.weft.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: per-client, namespace: istio-system}
spec:
  targetRefs:
  - {group: networking.istio.io, kind: Gateway, name: my-gateway}
  - {kind: Service, name: httpbin}
  rules:
  - name: per-ip
    key: {clientAddress: {}}
    limit: {requests: 5, unit: minute}
  - name: per-user
    key: {header: {name: X-User}}
    limit: {requests: 2, unit: second}
  - name: per-principal
    key: {principal: {}}
    limit: {requests: 7, unit: hour}
)");
  EXPECT_THAT(b.notes, IsEmpty());
  ASSERT_EQ(b.resources[kRateLimitPolicyType].size(), 1u);
  const auto& p = b.resources[kRateLimitPolicyType].at("istio-system/per-client").rate_limit_policy();
  EXPECT_EQ(p.name(), "istio-system/per-client");
  EXPECT_THAT(p.gateways(), ElementsAre("istio-system/my-gateway"));
  EXPECT_THAT(p.services(), ElementsAre("httpbin.istio-system.svc.cluster.local"));
  EXPECT_EQ(p.mode(), weft::v1::RateLimitPolicy::LOCAL);
  EXPECT_EQ(p.redis_address(), "");
  ASSERT_EQ(p.rules_size(), 3);
  EXPECT_EQ(p.rules(0).name(), "per-ip");
  EXPECT_EQ(p.rules(0).key(), weft::v1::RateLimitRule::CLIENT_ADDRESS);
  EXPECT_EQ(p.rules(0).requests(), 5u);
  EXPECT_EQ(p.rules(0).unit_seconds(), 60u);
  EXPECT_EQ(p.rules(1).key(), weft::v1::RateLimitRule::HEADER);
  EXPECT_EQ(p.rules(1).header_name(), "x-user") << "header names are matched in lower case";
  EXPECT_EQ(p.rules(1).unit_seconds(), 1u);
  EXPECT_EQ(p.rules(2).key(), weft::v1::RateLimitRule::PRINCIPAL);
  EXPECT_EQ(p.rules(2).unit_seconds(), 3600u);
}

TEST(RateLimitView, GlobalPolicyCarriesItsRedisAddress) {
  auto b = compile(R"(
apiVersion: policy.weft.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: shared, namespace: istio-system}
spec:
  targetRefs: [{group: networking.istio.io, kind: Gateway, name: my-gateway}]
  mode: global
  redis: {address: "redis.istio-system.svc.cluster.local:6379"}
  rules: [{name: all, key: {clientAddress: {}}, limit: {requests: 10, unit: second}}]
)");
  const auto& p = b.resources[kRateLimitPolicyType].at("istio-system/shared").rate_limit_policy();
  EXPECT_EQ(p.mode(), weft::v1::RateLimitPolicy::GLOBAL);
  EXPECT_EQ(p.redis_address(), "redis.istio-system.svc.cluster.local:6379");
}

TEST(RateLimitView, MissingTargetsAreNotesAndGatewayApiTargetsAreNotApplied) {
  auto b = compile(R"(
apiVersion: policy.weft.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: later, namespace: istio-system}
spec:
  targetRefs:
  - {group: networking.istio.io, kind: Gateway, name: not-yet}
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}
  rules: [{name: all, key: {clientAddress: {}}, limit: {requests: 1, unit: second}}]
---
apiVersion: policy.weft.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: routes-only, namespace: istio-system}
spec:
  targetRefs:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}
  - {group: gateway.networking.k8s.io, kind: Gateway, name: edge}
  rules: [{name: all, key: {clientAddress: {}}, limit: {requests: 1, unit: second}}]
)");
  // A Gateway that does not exist yet is kept: the view is rebuilt when it appears.
  const auto& p = b.resources[kRateLimitPolicyType].at("istio-system/later").rate_limit_policy();
  EXPECT_THAT(p.gateways(), ElementsAre("istio-system/not-yet"));
  EXPECT_FALSE(b.resources[kRateLimitPolicyType].contains("istio-system/routes-only")) << "nothing it could apply to";
  EXPECT_THAT(b.notes, ElementsAre(HasSubstr("spec.targetRefs[0]: Gateway istio-system/not-yet does not exist"),
                                   HasSubstr("spec.targetRefs[1]: HTTPRoute api: not applied"),
                                   HasSubstr("spec.targetRefs[0]: HTTPRoute api: not applied"),
                                   HasSubstr("spec.targetRefs[1]: Gateway edge: not applied"),
                                   HasSubstr("RateLimitPolicy istio-system/routes-only: no target")));
}

TEST(RateLimitView, IsPartOfTheProxyViewAndWatched) {
  ObjectsByKind objects;
  decodeInto(objects, kTargets);
  decodeInto(objects, R"(
apiVersion: policy.weft.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: per-client, namespace: istio-system}
spec:
  targetRefs: [{group: networking.istio.io, kind: Gateway, name: my-gateway}]
  rules: [{name: all, key: {clientAddress: {}}, limit: {requests: 1, unit: second}}]
)");
  RegistryBuild build;
  addProxyView(objects, build);
  EXPECT_EQ(build.resources[kRateLimitPolicyType].size(), 1u);
  EXPECT_EQ(build.resources[kListenerType].size(), 1u);
  const auto& kinds = registryKinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), kRateLimitPolicyKind), kinds.end()) << "weftd must watch the kind";
}

}  // namespace
}  // namespace weft::control
