#include "control/request_authentication_compiler.h"

#include <gtest/gtest.h>

#include "model/decoder.h"

namespace weft::control {
namespace {

model::Object policy(const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "p.yaml", {});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  return decoded.objects.at(0);
}

TEST(RequestAuthenticationCompiler, RulesLocationsAndOutputs) {
  std::vector<std::string> notes;
  auto compiled = compileRequestAuthentication(policy(R"(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules:
  - issuer: https://issuer.example
    audiences: [api]
    jwks: '{"keys":[]}'
    fromHeaders: [{name: X-Jwt-Assertion, prefix: "Token "}]
    fromParams: [token]
    fromCookies: [session]
    forwardOriginalToken: true
    outputPayloadToHeader: x-jwt-payload
    outputClaimToHeaders: [{header: x-jwt-sub, claim: sub}]
  - issuer: https://remote.example
    jwksUri: https://remote.example/jwks.json
)"),
                                               "istio-system", notes);
  ASSERT_TRUE(compiled);
  EXPECT_EQ(compiled->scope(), weft::v1::Authorization::WORKLOAD_SELECTOR);
  EXPECT_EQ(compiled->selector().at("istio"), "ingressgateway");
  ASSERT_EQ(compiled->rules_size(), 2);
  const auto& rule = compiled->rules(0);
  EXPECT_EQ(rule.issuer(), "https://issuer.example");
  EXPECT_EQ(rule.audiences(0), "api");
  EXPECT_EQ(rule.jwks(), R"({"keys":[]})");
  EXPECT_EQ(rule.from_headers(0).name(), "x-jwt-assertion");
  EXPECT_EQ(rule.from_headers(0).prefix(), "Token ");
  EXPECT_EQ(rule.from_params(0), "token");
  EXPECT_EQ(rule.from_cookies(0), "session");
  EXPECT_TRUE(rule.forward_original_token());
  EXPECT_EQ(rule.output_payload_to_header(), "x-jwt-payload");
  EXPECT_EQ(rule.output_claim_to_headers(0).claim(), "sub");
  EXPECT_EQ(compiled->rules(1).jwks_uri(), "https://remote.example/jwks.json");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("not fetched yet"), std::string::npos) << notes[0];
}

TEST(RequestAuthenticationCompiler, TargetRefsNameGatewaysAndServices) {
  std::vector<std::string> notes;
  auto gateway = compileRequestAuthentication(policy(R"(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: web}
spec:
  targetRefs:
  - {kind: Gateway, group: gateway.networking.k8s.io, name: web-gateway}
  - {kind: Service, group: "", name: checkout}
  - {kind: ServiceEntry, group: networking.istio.io, name: payments}
  jwtRules: [{issuer: i, jwks: '{"keys":[]}'}]
)"),
                                              "istio-system", notes);
  ASSERT_TRUE(gateway);
  EXPECT_TRUE(gateway->selector().empty()) << "its targets say where it applies";
  ASSERT_EQ(gateway->target_gateways_size(), 1);
  EXPECT_EQ(gateway->target_gateways(0), "web/web-gateway");
  ASSERT_EQ(gateway->target_services_size(), 1);
  EXPECT_EQ(gateway->target_services(0), "checkout.web.svc.cluster.local");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("targetRef ServiceEntry"), std::string::npos) << notes[0];

  notes.clear();
  auto serviceOnly = compileRequestAuthentication(policy(R"(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: checkout}]
  jwtRules: [{issuer: i, jwks: '{"keys":[]}'}]
)"),
                                                  "istio-system", notes);
  ASSERT_TRUE(serviceOnly);
  EXPECT_TRUE(serviceOnly->selector().empty());
  EXPECT_EQ(serviceOnly->target_services(0), "checkout.shop.svc.cluster.local");
  EXPECT_TRUE(notes.empty());

  auto nothingServed = compileRequestAuthentication(policy(R"(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: payments}]
  jwtRules: [{issuer: i, jwks: '{"keys":[]}'}]
)"),
                                                    "istio-system", notes);
  EXPECT_FALSE(nothingServed);

  auto meshWide = compileRequestAuthentication(policy(R"(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  jwtRules: [{issuer: i, jwks: '{"keys":[]}'}]
)"),
                                               "istio-system", notes);
  ASSERT_TRUE(meshWide);
  EXPECT_EQ(meshWide->scope(), weft::v1::Authorization::GLOBAL);
}

}  // namespace
}  // namespace weft::control
