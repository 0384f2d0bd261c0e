#include "proxy/request_authentication.h"

#include <gtest/gtest.h>

#include "proxy/jwt_test_support.h"

namespace weft::proxy {
namespace {

namespace http = boost::beast::http;
using testing::TestSigner;

const std::map<std::string, std::string> kGatewayLabels{{"istio", "ingressgateway"}};
const std::string kIssuer = "https://issuer.example";

std::string claims(const std::string& issuer = kIssuer, const std::string& aud = "api") {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return fmt::format(R"({{"iss":"{}","sub":"alice","aud":"{}","exp":{},"groups":["dev"],"level":3}})", issuer, aud, now + 600);
}

weft::v1::JwtAuthentication policy(const std::string& ns, const TestSigner& signer) {
  weft::v1::JwtAuthentication p;
  p.set_name("jwt");
  p.set_namespace_(ns);
  p.set_scope(weft::v1::Authorization::WORKLOAD_SELECTOR);
  (*p.mutable_selector())["istio"] = "ingressgateway";
  auto* rule = p.add_rules();
  rule->set_issuer(kIssuer);
  rule->set_jwks(signer.jwks("k1"));
  return p;
}

JwtAuthenticator authenticatorFor(const std::vector<weft::v1::JwtAuthentication>& all) {
  std::vector<std::string> problems;
  auto out = JwtAuthenticator::forWorkload(all, "istio-system", kGatewayLabels, "istio-system", problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return out;
}

const auto kNow = [] { return std::chrono::system_clock::now(); };

TEST(RequestAuthentication, ABearerTokenIsVerifiedItsHeaderRemovedAndItsClaimsCopied) {
  TestSigner signer = TestSigner::rsa();
  auto p = policy("istio-system", signer);
  p.mutable_rules(0)->set_output_payload_to_header("x-jwt-payload");
  auto* claim = p.mutable_rules(0)->add_output_claim_to_headers();
  claim->set_header("x-jwt-level");
  claim->set_claim("level");
  auto authn = authenticatorFor({p});
  ASSERT_FALSE(authn.empty());

  http::fields none;
  EXPECT_EQ(authn.check(none, "/get", kNow()).state, JwtCheck::State::kNoToken) << "no token: nothing to refuse";

  std::string payload = claims();
  http::fields headers;
  headers.set(http::field::authorization, "Bearer " + signer.sign("RS256", payload, "k1"));
  auto check = authn.check(headers, "/get", kNow());
  ASSERT_EQ(check.state, JwtCheck::State::kVerified) << check.failure;
  EXPECT_EQ(check.principal(), kIssuer + "/alice");
  EXPECT_EQ(headers.count(http::field::authorization), 0u) << "forwardOriginalToken is false: removed";
  EXPECT_EQ(headers["x-jwt-payload"], base64UrlEncode(payload));
  EXPECT_EQ(headers["x-jwt-level"], "3");
}

TEST(RequestAuthentication, BadTokensAreRefusedWithTheReason) {
  TestSigner signer = TestSigner::rsa();
  auto p = policy("istio-system", signer);
  p.mutable_rules(0)->add_audiences("api");
  auto authn = authenticatorFor({p});
  auto failure = [&](const std::string& token) {
    http::fields headers;
    headers.set(http::field::authorization, "Bearer " + token);
    auto check = authn.check(headers, "/", kNow());
    if (check.state == JwtCheck::State::kRefused) EXPECT_EQ(headers.count(http::field::authorization), 1u) << "a refused request is not edited";
    return check.state == JwtCheck::State::kRefused ? check.failure : "passed";
  };
  EXPECT_EQ(failure(signer.sign("RS256", claims("https://elsewhere.example"), "k1")), "Jwt issuer is not configured");
  EXPECT_EQ(failure(signer.sign("RS256", claims(kIssuer, "other"), "k1")), "Audiences in Jwt are not allowed");
  EXPECT_EQ(failure(TestSigner::rsa().sign("RS256", claims(), "k1")), "Jwt verification fails");
  EXPECT_EQ(failure("garbage"), "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
  EXPECT_EQ(failure(signer.sign("RS256", claims(), "k1")), "passed");
}

// Every token a request carries must verify: a good one does not carry a forged one along.
// And the headers a verified token writes cannot come from the client.
TEST(RequestAuthentication, EveryTokenIsCheckedAndOutputHeadersAreTheProxys) {
  TestSigner signer = TestSigner::rsa();
  auto p = policy("istio-system", signer);
  auto* rule = p.mutable_rules(0);
  auto* bearer = rule->add_from_headers();
  bearer->set_name("authorization");
  bearer->set_prefix("Bearer ");
  rule->add_from_headers()->set_name("x-jwt-assertion");
  auto* claim = rule->add_output_claim_to_headers();
  claim->set_header("x-jwt-sub");
  claim->set_claim("sub");
  auto authn = authenticatorFor({p});

  http::fields both;
  both.set("x-jwt-assertion", signer.sign("RS256", claims(), "k1"));
  both.set(http::field::authorization, "Bearer " + TestSigner::rsa().sign("RS256", claims(), "k1"));
  auto check = authn.check(both, "/", kNow());
  EXPECT_EQ(check.state, JwtCheck::State::kRefused);
  EXPECT_EQ(check.failure, "Jwt verification fails");

  http::fields spoofed;
  spoofed.set("x-jwt-sub", "admin");
  EXPECT_EQ(authn.check(spoofed, "/", kNow()).state, JwtCheck::State::kNoToken);
  EXPECT_EQ(spoofed.count("x-jwt-sub"), 0u) << "a client's own x-jwt-sub is dropped";

  http::fields twoGood;
  twoGood.set("x-jwt-assertion", signer.sign("RS256", claims(), "k1"));
  twoGood.set(http::field::authorization, "Bearer " + signer.sign("RS256", claims(), "k1"));
  EXPECT_EQ(authn.check(twoGood, "/", kNow()).state, JwtCheck::State::kVerified);
  EXPECT_EQ(twoGood["x-jwt-sub"], "alice");
  EXPECT_EQ(twoGood.count("x-jwt-assertion") + twoGood.count(http::field::authorization), 0u) << "both removed";
}

TEST(RequestAuthentication, LocationsForwardingAndJwksUri) {
  TestSigner signer = TestSigner::ec();
  auto p = policy("istio-system", signer);
  auto* rule = p.mutable_rules(0);
  auto* header = rule->add_from_headers();
  header->set_name("x-jwt-assertion");
  rule->add_from_params("token");
  rule->add_from_cookies("session");
  rule->set_forward_original_token(true);
  auto fromUri = policy("istio-system", signer);
  fromUri.set_name("remote");
  fromUri.mutable_rules(0)->set_issuer("https://remote.example");
  fromUri.mutable_rules(0)->clear_jwks();
  fromUri.mutable_rules(0)->set_jwks_uri("https://remote.example/jwks.json");
  std::vector<std::string> problems;
  auto authn = JwtAuthenticator::forWorkload({p, fromUri}, "istio-system", kGatewayLabels, "istio-system", problems);
  std::string token = signer.sign("ES256", claims(), "k1");

  http::fields byHeader;
  byHeader.set("x-jwt-assertion", token);
  EXPECT_EQ(authn.check(byHeader, "/", kNow()).state, JwtCheck::State::kVerified);
  EXPECT_EQ(byHeader["x-jwt-assertion"], token) << "forwardOriginalToken keeps it";
  http::fields empty;
  EXPECT_EQ(authn.check(empty, "/get?a=1&token=" + token, kNow()).state, JwtCheck::State::kVerified);
  http::fields byCookie;
  byCookie.set(http::field::cookie, "theme=dark; session=" + token);
  EXPECT_EQ(authn.check(byCookie, "/", kNow()).state, JwtCheck::State::kVerified);
  // The rule names its locations, so the default one is not its: only the jwksUri rule
  // reads it, and that rule is for another issuer.
  http::fields bearer;
  bearer.set(http::field::authorization, "Bearer " + token);
  auto misplaced = authn.check(bearer, "/", kNow());
  EXPECT_EQ(misplaced.state, JwtCheck::State::kRefused);
  EXPECT_EQ(misplaced.failure, "Jwt issuer is not configured");

  // The default locations of the jwksUri rule take this one; weftd sent no keys for it
  // (not fetched yet), so Envoy's answers for an empty key set: no key for a kid, and no
  // key verifies a token without one.
  http::fields remote;
  remote.set(http::field::authorization, "Bearer " + signer.sign("ES256", claims("https://remote.example"), "k1"));
  auto check = authn.check(remote, "/", kNow());
  EXPECT_EQ(check.state, JwtCheck::State::kRefused);
  EXPECT_EQ(check.failure, "Jwks doesn't have key to match kid or alg from Jwt");
  http::fields remoteNoKid;
  remoteNoKid.set(http::field::authorization, "Bearer " + signer.sign("ES256", claims("https://remote.example")));
  EXPECT_EQ(authn.check(remoteNoKid, "/", kNow()).failure, "Jwt verification fails");
}

// Attached by targetRefs: at a waypoint for its Gateway's or its Service's traffic; at a
// pod only through a Gateway target's label, in the policy's own namespace.
TEST(RequestAuthentication, TargetRefsReachWaypointsAndTheirGatewaysPodsOnly) {
  TestSigner signer = TestSigner::rsa();
  auto toService = policy("shop", signer);
  toService.clear_selector();
  toService.set_scope(weft::v1::Authorization::NAMESPACE);
  toService.add_target_services("checkout.shop.svc.cluster.local");
  auto toGateway = policy("istio-system", signer);
  toGateway.set_name("gw");
  toGateway.clear_selector();
  toGateway.set_scope(weft::v1::Authorization::NAMESPACE);
  toGateway.add_target_gateways("istio-system/other");
  toGateway.add_target_gateways("istio-system/waypoint");
  std::vector<std::string> problems;
  EXPECT_FALSE(JwtAuthenticator::forWaypointTarget({toService}, "shop/waypoint", "checkout.shop.svc.cluster.local", problems).empty());
  EXPECT_TRUE(JwtAuthenticator::forWaypointTarget({toService}, "shop/waypoint", "cart.shop.svc.cluster.local", problems).empty());
  EXPECT_FALSE(JwtAuthenticator::forWaypointTarget({toGateway}, "istio-system/waypoint", "any.shop.svc.cluster.local", problems).empty());
  // Pods: never through a Service target; through a Gateway target in its namespace only.
  EXPECT_TRUE(JwtAuthenticator::forWorkload({toService}, "shop", {{"app", "checkout"}}, "istio-system", problems).empty());
  const std::map<std::string, std::string> waypointPod{{kGatewayNameLabel, "waypoint"}};
  EXPECT_FALSE(JwtAuthenticator::forWorkload({toGateway}, "istio-system", waypointPod, "istio-system", problems).empty());
  EXPECT_TRUE(JwtAuthenticator::forWorkload({toGateway}, "shop", waypointPod, "istio-system", problems).empty())
      << "a root-namespace targetRef is not a mesh-wide selector";
  EXPECT_TRUE(problems.empty());
}

TEST(RequestAuthentication, ScopeLikeAuthorizationPolicyAndUnreadableKeysReported) {
  TestSigner signer = TestSigner::rsa();
  auto elsewhere = policy("team-a", signer);  // a selector in another namespace: not this pod's
  auto otherPods = policy("istio-system", signer);
  (*otherPods.mutable_selector())["istio"] = "egressgateway";
  std::vector<std::string> problems;
  EXPECT_TRUE(JwtAuthenticator::forWorkload({elsewhere, otherPods}, "istio-system", kGatewayLabels, "istio-system", problems).empty());
  auto broken = policy("istio-system", signer);
  broken.mutable_rules(0)->set_jwks(R"({"keys":[]})");
  auto authn = JwtAuthenticator::forWorkload({broken}, "istio-system", kGatewayLabels, "istio-system", problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("istio-system/jwt"), std::string::npos) << problems[0];
  http::fields headers;
  headers.set(http::field::authorization, "Bearer " + signer.sign("RS256", claims(), "k1"));
  auto check = authn.check(headers, "/", kNow());
  EXPECT_EQ(check.state, JwtCheck::State::kRefused);
  EXPECT_EQ(check.failure, "Jwks doesn't have key to match kid or alg from Jwt");
}

TEST(RequestAuthentication, ARuleWithoutAnIssuerTakesAnyAndNamesItsDelimitedClaims) {
  TestSigner signer = TestSigner::rsa();
  auto p = policy("istio-system", signer);
  p.mutable_rules(0)->set_issuer("");
  p.mutable_rules(0)->add_space_delimited_claims("roles");
  auto authn = authenticatorFor({p});
  http::fields headers;
  headers.set(http::field::authorization, "Bearer " + signer.sign("RS256", claims("https://any.example"), "k1"));
  auto check = authn.check(headers, "/get", kNow());
  ASSERT_EQ(check.state, JwtCheck::State::kVerified) << check.failure;
  EXPECT_EQ(check.principal(), "https://any.example/alice");
  ASSERT_TRUE(check.jwt);
  EXPECT_EQ(check.jwt->spaceDelimitedClaims, (std::vector<std::string>{"scope", "permission", "roles"}));

  // Two rules without an issuer reading one location: a token signed by the second's keys
  // passes (each is tried, as Envoy tries each provider).
  TestSigner second = TestSigner::rsa();
  auto twoAnonymous = policy("istio-system", signer);
  twoAnonymous.mutable_rules(0)->set_issuer("");
  auto* other = twoAnonymous.add_rules();
  other->set_jwks(second.jwks("k2"));
  auto anyOfTwo = authenticatorFor({twoAnonymous});
  http::fields bySecond;
  bySecond.set(http::field::authorization, "Bearer " + second.sign("RS256", claims("https://second.example"), "k2"));
  auto secondCheck = anyOfTwo.check(bySecond, "/get", kNow());
  EXPECT_EQ(secondCheck.state, JwtCheck::State::kVerified) << secondCheck.failure;
  http::fields byNeither;
  byNeither.set(http::field::authorization, "Bearer " + TestSigner::rsa().sign("RS256", claims("https://second.example"), "k1"));
  EXPECT_EQ(anyOfTwo.check(byNeither, "/get", kNow()).failure, "Jwt verification fails") << "the first rule's failure is the answer";

  auto named = policy("istio-system", signer);
  auto* anyIssuer = named.add_rules();
  anyIssuer->set_jwks(TestSigner::rsa().jwks("k1"));  // another key: a token of kIssuer must go to the named rule
  auto both = authenticatorFor({named});
  http::fields again;
  again.set(http::field::authorization, "Bearer " + signer.sign("RS256", claims(), "k1"));
  EXPECT_EQ(both.check(again, "/get", kNow()).state, JwtCheck::State::kVerified) << "the rule naming the issuer is chosen first";
}

}  // namespace
}  // namespace weft::proxy
