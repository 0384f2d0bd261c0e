#include "control/authorization_compiler.h"

#include <gtest/gtest.h>

#include "model/decoder.h"

namespace weft::control {
namespace {

model::Object policy(const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "p.yaml", {});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  return decoded.objects.at(0);
}

TEST(AuthorizationCompiler, L4AllowRule) {
  auto compiled = compileAuthorizationPolicy(policy(R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-curl, namespace: default}
spec:
  selector: {matchLabels: {app: httpbin}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/default/sa/curl"], namespaces: ["prod*"]}}]
    to: [{operation: {ports: ["8080"]}}]
)"),
                                             "istio-system");
  ASSERT_TRUE(compiled.authorization);
  const auto& a = *compiled.authorization;
  EXPECT_EQ(a.scope(), weft::v1::Authorization::WORKLOAD_SELECTOR);
  EXPECT_EQ(a.selector().at("app"), "httpbin");
  ASSERT_EQ(a.groups_size(), 1);
  EXPECT_EQ(a.groups(0).principals(0).value(), "cluster.local/ns/default/sa/curl");
  EXPECT_EQ(a.groups(0).namespaces(0).kind(), weft::v1::Match::PREFIX);
  EXPECT_EQ(a.groups(0).ports(0), 8080u);
  EXPECT_FALSE(a.has_l7_only_rules());
}

TEST(AuthorizationCompiler, L7AllowRulesNeverMatchAndL7DenyRulesAreWidened) {
  std::string body = R"(
  rules:
  - to: [{operation: {methods: ["GET"], ports: ["8080"]}}]
)";
  auto allow = compileAuthorizationPolicy(
      policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, namespace: default}\nspec:\n  action: ALLOW" + body),
      "istio-system");
  ASSERT_TRUE(allow.authorization);
  EXPECT_TRUE(allow.authorization->has_l7_only_rules());
  EXPECT_EQ(allow.authorization->groups_size(), 0);
  auto deny = compileAuthorizationPolicy(
      policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d, namespace: default}\nspec:\n  action: DENY" + body),
      "istio-system");
  ASSERT_TRUE(deny.authorization);
  ASSERT_EQ(deny.authorization->groups_size(), 1);
  EXPECT_EQ(deny.authorization->groups(0).ports(0), 8080u) << "the L4 part stays, the method is dropped";
}

TEST(AuthorizationCompiler, ScopesAndWaypointPolicies) {
  auto global = compileAuthorizationPolicy(
      policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: g, namespace: istio-system}\nspec: {}\n"),
      "istio-system");
  EXPECT_EQ(global.authorization->scope(), weft::v1::Authorization::GLOBAL);
  auto waypoint = compileAuthorizationPolicy(policy(R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: w, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: httpbin}]
  rules: [{to: [{operation: {methods: ["GET"]}}]}]
)"),
                                             "istio-system");
  EXPECT_FALSE(waypoint.authorization);
  EXPECT_NE(waypoint.skipped.find("targetRefs"), std::string::npos);
}

TEST(AuthorizationCompiler, WhenConditionsOnL4Keys) {
  auto compiled = compileAuthorizationPolicy(policy(R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: w, namespace: default}
spec:
  rules:
  - when: [{key: source.ip, values: ["198.18.0.0/16"]}, {key: destination.port, notValues: ["9090"]},
           {key: destination.ip, values: ["198.18.1.5"], notValues: ["198.18.2.0/24"]}]
)"),
                                             "istio-system");
  ASSERT_TRUE(compiled.authorization);
  ASSERT_EQ(compiled.authorization->groups_size(), 1);
  EXPECT_EQ(compiled.authorization->groups(0).ip_blocks(0), "198.18.0.0/16");
  EXPECT_EQ(compiled.authorization->groups(0).not_ports(0), 9090u);
  EXPECT_EQ(compiled.authorization->groups(0).destination_ip_blocks(0), "198.18.1.5");
  EXPECT_EQ(compiled.authorization->groups(0).not_destination_ip_blocks(0), "198.18.2.0/24");
}

TEST(AuthorizationCompiler, PeerAuthentication) {
  auto compiled = compilePeerAuthentication(policy(R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: httpbin, namespace: default}
spec:
  selector: {matchLabels: {app: httpbin}}
  mtls: {mode: STRICT}
  portLevelMtls: {"8080": {mode: PERMISSIVE}}
)"),
                                            "istio-system");
  ASSERT_TRUE(compiled.authorization);
  EXPECT_EQ(compiled.authorization->scope(), weft::v1::Authorization::WORKLOAD_SELECTOR);
  EXPECT_EQ(compiled.authorization->mtls_mode(), weft::v1::Authorization::STRICT);
  EXPECT_EQ(compiled.authorization->port_mtls().at(8080), weft::v1::Authorization::PERMISSIVE);
}

TEST(AuthorizationCompiler, MeshWidePeerAuthentication) {
  auto compiled = compilePeerAuthentication(
      policy("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\n"
             "spec: {mtls: {mode: STRICT}}\n"),
      "istio-system");
  ASSERT_TRUE(compiled.authorization);
  EXPECT_EQ(compiled.authorization->scope(), weft::v1::Authorization::GLOBAL);
  EXPECT_EQ(compiled.authorization->mtls_mode(), weft::v1::Authorization::STRICT);
}

TEST(AuthorizationCompiler, Matches) {
  EXPECT_EQ(parseMatch("*").kind(), weft::v1::Match::PRESENCE);
  EXPECT_EQ(parseMatch("*.svc").kind(), weft::v1::Match::SUFFIX);
  EXPECT_EQ(parseMatch("*.svc").value(), ".svc");
  EXPECT_EQ(parseMatch("abc").kind(), weft::v1::Match::EXACT);
}

TEST(AuthorizationCompiler, HttpFormKeepsEveryL7Field) {
  auto yaml = R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: gateway-rules, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - from: [{source: {remoteIpBlocks: ["10.0.0.0/8"], notPrincipals: ["*"]}}]
    to: [{operation: {hosts: ["*.example.com"], methods: ["POST", "PUT"], paths: ["/admin*"], notPorts: ["15021"]}}]
    when: [{key: "request.headers[x-user]", values: ["bob"], notValues: ["alice"]}]
)";
  auto http = compileHttpAuthorization(policy(yaml), "istio-system");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->action(), weft::v1::Authorization::DENY);
  EXPECT_EQ(http->scope(), weft::v1::Authorization::WORKLOAD_SELECTOR);
  ASSERT_EQ(http->rules_size(), 1);
  const auto& rule = http->rules(0);
  EXPECT_EQ(rule.from(0).remote_ip_blocks(0), "10.0.0.0/8");
  EXPECT_EQ(rule.from(0).not_principals(0).kind(), weft::v1::Match::PRESENCE);
  EXPECT_EQ(rule.to(0).hosts(0).kind(), weft::v1::Match::SUFFIX);
  EXPECT_EQ(rule.to(0).methods_size(), 2);
  EXPECT_EQ(rule.to(0).paths(0).kind(), weft::v1::Match::PREFIX);
  EXPECT_EQ(rule.to(0).not_ports(0), 15021u);
  EXPECT_EQ(rule.when(0).key(), "request.headers[x-user]");
  EXPECT_EQ(rule.when(0).not_values(0).value(), "alice");

  auto attached = compileHttpAuthorization(policy(R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: waypoint-rules, namespace: default}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  rules: [{}]
)"),
                                           "istio-system");
  EXPECT_FALSE(attached) << "targetRefs policies are the waypoint's";
}

}  // namespace
}  // namespace weft::control
