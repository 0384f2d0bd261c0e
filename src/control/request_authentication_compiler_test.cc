#include "control/request_authentication_compiler.h"

#include <gtest/gtest.h>

#include "model/decoder.h"

namespace weft::control {
namespace {

// No keys fetched yet; the sources asked for land in `wanted`.
struct Fetched {
  FetchedJwksByKey fetched;
  std::vector<JwksSource> wanted;
  JwksKeys keys() { return {fetched, wanted}; }
};

JwksKeys noKeys() {
  static Fetched none;
  return none.keys();
}

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
    spaceDelimitedClaims: [roles]
  - issuer: https://remote.example
    jwksUri: https://remote.example/jwks.json
)"),
                                               "istio-system", noKeys(), notes);
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
  EXPECT_EQ(rule.space_delimited_claims(0), "roles");
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
                                              "istio-system", noKeys(), notes);
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
                                                  "istio-system", noKeys(), notes);
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
                                                    "istio-system", noKeys(), notes);
  EXPECT_FALSE(nothingServed);

  auto meshWide = compileRequestAuthentication(policy(R"(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  jwtRules: [{issuer: i, jwks: '{"keys":[]}'}]
)"),
                                               "istio-system", noKeys(), notes);
  ASSERT_TRUE(meshWide);
  EXPECT_EQ(meshWide->scope(), weft::v1::Authorization::GLOBAL);
}

TEST(RequestAuthenticationCompiler, FetchedKeysAreInlinedAndSourcesListed) {
  Fetched weftd;
  weftd.fetched["https://remote.example/jwks.json"] = {R"({"keys":[{"kty":"EC"}]})", ""};
  weftd.fetched["discovery:https://idp.example/realms/a/"] = {"", "GET https://idp.example/realms/a/.well-known/openid-configuration: HTTP 404"};
  std::vector<std::string> notes;
  auto compiled = compileRequestAuthentication(policy(R"(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  jwtRules:
  - issuer: https://remote.example
    jwksUri: https://remote.example/jwks.json
    timeout: 250ms
  - issuer: https://idp.example/realms/a/
  - issuer: https://later.example
    jwksUri: http://later.example/keys
)"),
                                               "istio-system", weftd.keys(), notes);
  ASSERT_TRUE(compiled);
  ASSERT_EQ(compiled->rules_size(), 3);
  EXPECT_EQ(compiled->rules(0).jwks(), R"({"keys":[{"kty":"EC"}]})") << "fetched keys are inline for the proxy";
  EXPECT_EQ(compiled->rules(1).jwks(), "") << "discovery failed: no keys";
  EXPECT_EQ(compiled->rules(1).jwks_uri(), "https://idp.example/realms/a/.well-known/openid-configuration");
  EXPECT_EQ(compiled->rules(2).jwks(), "");
  ASSERT_EQ(weftd.wanted.size(), 3u);
  EXPECT_EQ(weftd.wanted[0], (JwksSource{"https://remote.example/jwks.json", "https://remote.example", std::chrono::milliseconds(250)}));
  EXPECT_TRUE(weftd.wanted[1].discovers());
  EXPECT_EQ(weftd.wanted[1].key(), "discovery:https://idp.example/realms/a/");
  EXPECT_EQ(weftd.wanted[2].timeout, std::chrono::milliseconds(5000)) << "istiod's default";
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].find("HTTP 404: its tokens are answered 401 until a fetch works"), std::string::npos) << notes[0];
  EXPECT_NE(notes[1].find("http://later.example/keys is not fetched yet"), std::string::npos) << notes[1];
}

TEST(RequestAuthenticationCompiler, KeysFetchedBeforeStayThroughAFailedRefresh) {
  Fetched weftd;
  weftd.fetched["https://remote.example/jwks.json"] = {R"({"keys":[]})", "GET https://remote.example/jwks.json: HTTP 503"};
  std::vector<std::string> notes;
  auto compiled = compileRequestAuthentication(policy(R"(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  jwtRules: [{issuer: https://remote.example, jwksUri: https://remote.example/jwks.json}]
)"),
                                               "istio-system", weftd.keys(), notes);
  ASSERT_TRUE(compiled);
  EXPECT_EQ(compiled->rules(0).jwks(), R"({"keys":[]})");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("HTTP 503: the keys fetched before stay"), std::string::npos) << notes[0];
}

}  // namespace
}  // namespace weft::control
