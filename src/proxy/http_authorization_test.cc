#include "proxy/http_authorization.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace weft::proxy {
namespace {

weft::v1::Match exact(const std::string& v) {
  weft::v1::Match m;
  m.set_value(v);
  return m;
}

weft::v1::Match prefix(const std::string& v) {
  weft::v1::Match m;
  m.set_kind(weft::v1::Match::PREFIX);
  m.set_value(v);
  return m;
}

weft::v1::HttpAuthorization policy(const std::string& name, weft::v1::Authorization::Action action) {
  weft::v1::HttpAuthorization p;
  p.set_name(name);
  p.set_namespace_("istio-system");
  p.set_scope(weft::v1::Authorization::WORKLOAD_SELECTOR);
  (*p.mutable_selector())["istio"] = "ingressgateway";
  p.set_action(action);
  return p;
}

struct Request {
  std::string host = "example.com", method = "GET", path = "/get", source = "198.18.0.9", destination = "198.18.1.20", identity, token;
  AuthorizationFacts facts() const {
    return AuthorizationFacts{.host = host,
                              .method = method,
                              .path = path,
                              .port = 8080,
                              .sourceAddress = source,
                              .destinationAddress = destination,
                              .peerIdentity = identity,
                              .header = [this](std::string_view name) -> std::optional<std::string_view> {
                                if (name == "x-token" && !token.empty()) return std::string_view(token);
                                return std::nullopt;
                              }};
  }
};

const std::map<std::string, std::string> kGateway{{"istio", "ingressgateway"}};

// Istio's "Authorization on TCP traffic": HTTP-only fields make an ALLOW rule match
// nothing, and are left out of a DENY rule, which then denies more.
TEST(HttpAuthorizer, AConnectionHasOnlyItsL4Fields) {
  AuthorizationFacts connection{.port = 9000, .sourceAddress = "198.18.0.9", .peerIdentity = "spiffe://td/ns/front/sa/curl", .connectionOnly = true};

  // notMethods would hold for a connection's empty method: only the connection rule denies.
  auto allowGet = policy("not-delete", weft::v1::Authorization::ALLOW);
  auto* getRule = allowGet.add_rules();
  *getRule->add_to()->add_not_methods() = exact("DELETE");
  getRule->mutable_to(0)->add_ports(9000);
  auto allowGetOnly = HttpAuthorizer::forWorkload({allowGet}, "istio-system", kGateway, "istio-system");
  EXPECT_FALSE(allowGetOnly.decide(connection).allowed) << "an ALLOW rule with notMethods matches no connection";
  Request http;  // the same policy still takes an HTTP GET on that port
  auto httpFacts = http.facts();
  httpFacts.port = 9000;
  EXPECT_TRUE(allowGetOnly.decide(httpFacts).allowed);

  auto allowCurl = policy("curl", weft::v1::Authorization::ALLOW);
  auto* curlRule = allowCurl.add_rules();
  *curlRule->add_from()->add_principals() = exact("td/ns/front/sa/curl");
  curlRule->add_to()->add_ports(9000);
  auto* sourceNs = curlRule->add_when();
  sourceNs->set_key("source.namespace");
  *sourceNs->add_values() = exact("front");
  auto byPrincipal = HttpAuthorizer::forWorkload({allowGet, allowCurl}, "istio-system", kGateway, "istio-system");
  EXPECT_TRUE(byPrincipal.decide(connection).allowed) << "principals, ports and source.namespace are a connection's";
  connection.port = 9001;
  EXPECT_FALSE(byPrincipal.decide(connection).allowed);
  connection.port = 9000;

  auto denyGet = policy("no-get", weft::v1::Authorization::DENY);
  auto* denyRule = denyGet.add_rules();
  *denyRule->add_to()->add_methods() = exact("GET");
  denyRule->mutable_to(0)->add_ports(9000);
  auto* header = denyRule->add_when();
  header->set_key("request.headers[x-token]");
  *header->add_values() = exact("x");
  auto denies = HttpAuthorizer::forWorkload({denyGet}, "istio-system", kGateway, "istio-system");
  auto decision = denies.decide(connection);
  EXPECT_FALSE(decision.allowed) << "a DENY rule leaves its HTTP-only fields out for a connection";
  EXPECT_EQ(decision.policy, "istio-system/no-get");
  connection.port = 9001;
  EXPECT_TRUE(denies.decide(connection).allowed) << "its L4 fields still have to match";
  EXPECT_TRUE(denies.decide(httpFacts).allowed) << "for HTTP the whole rule applies (no x-token)";

  // AUDIT as DENY: the path is left out, so the connection on that port is recorded.
  auto auditPaths = policy("audit-paths", weft::v1::Authorization::AUDIT);
  auto* auditRule = auditPaths.add_rules();
  *auditRule->add_to()->add_paths() = prefix("/admin");
  auditRule->mutable_to(0)->add_ports(9000);
  auto audits = HttpAuthorizer::forWorkload({auditPaths}, "istio-system", kGateway, "istio-system");
  connection.port = 9000;
  EXPECT_EQ(audits.decide(connection).audited, (std::vector<std::string>{"istio-system/audit-paths"}));
  EXPECT_TRUE(audits.decide(httpFacts).audited.empty()) << "for HTTP the path must match (/get is not /admin)";
}

TEST(HttpAuthorizer, DenyThenAllowWithOperationsAndConditions) {
  auto deny = policy("no-admin", weft::v1::Authorization::DENY);
  *deny.add_rules()->add_to()->mutable_paths()->Add() = prefix("/admin");
  auto allow = policy("tokens", weft::v1::Authorization::ALLOW);
  auto* rule = allow.add_rules();
  auto* to = rule->add_to();
  *to->add_hosts() = exact("EXAMPLE.com");
  *to->add_methods() = exact("GET");
  auto* when = rule->add_when();
  when->set_key("request.headers[X-Token]");
  *when->add_values() = exact("let-me-in");
  auto authz = HttpAuthorizer::forWorkload({deny, allow}, "istio-system", kGateway, "istio-system");

  Request r;
  EXPECT_FALSE(authz.decide(r.facts()).allowed);  // no token: no ALLOW matches
  r.token = "let-me-in";
  EXPECT_TRUE(authz.decide(r.facts()).allowed);
  r.host = "example.com:8080";  // the port is ignored
  EXPECT_TRUE(authz.decide(r.facts()).allowed);
  r.method = "POST";
  EXPECT_FALSE(authz.decide(r.facts()).allowed);
  r.method = "GET";
  r.path = "/admin/users";
  auto decision = authz.decide(r.facts());
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.policy, "istio-system/no-admin");
}

TEST(HttpAuthorizer, ScopesSourcesAuditAndEmptyPolicies) {
  auto elsewhere = policy("other-pods", weft::v1::Authorization::DENY);
  (*elsewhere.mutable_selector())["istio"] = "egressgateway";
  elsewhere.add_rules();  // would deny everything, but selects other pods
  auto audit = policy("watch", weft::v1::Authorization::AUDIT);
  audit.add_rules();
  auto fromMesh = policy("from-mesh", weft::v1::Authorization::ALLOW);
  auto* source = fromMesh.add_rules()->add_from();
  *source->add_namespaces() = exact("default");
  source->add_ip_blocks("198.18.0.0/16");
  auto authz = HttpAuthorizer::forWorkload({elsewhere, audit, fromMesh}, "istio-system", kGateway, "istio-system");
  Request r;
  auto noIdentity = authz.decide(r.facts());
  EXPECT_FALSE(noIdentity.allowed);
  ASSERT_EQ(noIdentity.audited.size(), 1u);
  EXPECT_EQ(noIdentity.audited[0], "istio-system/watch");
  r.identity = "spiffe://acmellc.local/ns/default/sa/curl";
  EXPECT_TRUE(authz.decide(r.facts()).allowed);
  r.source = "10.1.1.1";
  EXPECT_FALSE(authz.decide(r.facts()).allowed);

  auto allowNothing = policy("allow-nothing", weft::v1::Authorization::ALLOW);  // no rules
  EXPECT_FALSE(HttpAuthorizer::forWorkload({allowNothing}, "istio-system", kGateway, "istio-system").decide(Request{}.facts()).allowed);
  EXPECT_TRUE(HttpAuthorizer::forWorkload({}, "istio-system", kGateway, "istio-system").decide(Request{}.facts()).allowed);
}

// destination.ip is the address the client connected to: the listener's, or at a
// waypoint the address its tunnel names.
TEST(HttpAuthorizer, DestinationIpConditions) {
  auto deny = policy("not-to-the-vip", weft::v1::Authorization::DENY);
  auto* when = deny.add_rules()->add_when();
  when->set_key("destination.ip");
  when->add_values()->set_value("198.18.1.0/28");
  auto authz = HttpAuthorizer::forWorkload({deny}, "istio-system", kGateway, "istio-system");
  Request r;
  r.destination = "198.18.1.5";
  EXPECT_FALSE(authz.decide(r.facts()).allowed);
  r.destination = "198.18.1.20";
  EXPECT_TRUE(authz.decide(r.facts()).allowed);
  AuthorizationFacts connection{.port = 9000, .sourceAddress = "198.18.0.9", .destinationAddress = "198.18.1.1", .connectionOnly = true};
  EXPECT_FALSE(authz.decide(connection).allowed) << "destination.ip is a connection's field too";

  auto allowOthers = policy("others", weft::v1::Authorization::ALLOW);
  auto* notWhen = allowOthers.add_rules()->add_when();
  notWhen->set_key("destination.ip");
  notWhen->add_not_values()->set_value("198.18.1.20");
  auto notValues = HttpAuthorizer::forWorkload({allowOthers}, "istio-system", kGateway, "istio-system");
  EXPECT_FALSE(notValues.decide(r.facts()).allowed);
  r.destination = "198.18.1.21";
  EXPECT_TRUE(notValues.decide(r.facts()).allowed);
}

// requestPrincipals and request.auth.* read the JWT RequestAuthentication verified; without
// one they match nothing (not even "*"), and unknown keys never hold.
TEST(HttpAuthorizer, JwtFieldsMatchOnlyAVerifiedToken) {
  auto anyPrincipal = policy("jwt", weft::v1::Authorization::ALLOW);
  weft::v1::Match presence;
  presence.set_kind(weft::v1::Match::PRESENCE);
  *anyPrincipal.add_rules()->add_from()->add_request_principals() = presence;
  auto unknown = policy("unknown", weft::v1::Authorization::ALLOW);
  unknown.add_rules()->add_when()->set_key("experimental.envoy.filters.whatever");
  Request r;
  EXPECT_FALSE(httpPolicyMatches(anyPrincipal, r.facts())) << "no token: no request principal";
  EXPECT_FALSE(httpPolicyMatches(unknown, r.facts()));

  VerifiedJwt jwt;
  jwt.issuer = "https://issuer.example";
  jwt.subject = "alice";
  jwt.audiences = {"api", "web"};
  jwt.presenter = "cli";
  jwt.claims = boost::json::parse(R"({"groups":["dev","ops"],"org":{"team":"payments"},"level":3})").as_object();
  auto facts = r.facts();
  facts.jwt = &jwt;
  EXPECT_TRUE(httpPolicyMatches(anyPrincipal, facts));

  auto when = [&](const std::string& key, const std::string& value, bool negative = false) {
    auto p = policy("when", weft::v1::Authorization::ALLOW);
    auto* c = p.add_rules()->add_when();
    c->set_key(key);
    (negative ? c->add_not_values() : c->add_values())->set_value(value);
    return httpPolicyMatches(p, facts);
  };
  EXPECT_TRUE(when("request.auth.principal", "https://issuer.example/alice"));
  EXPECT_FALSE(when("request.auth.principal", "https://issuer.example/bob"));
  EXPECT_TRUE(when("request.auth.audiences", "web"));
  EXPECT_TRUE(when("request.auth.presenter", "cli"));
  EXPECT_TRUE(when("request.auth.claims[groups]", "ops")) << "a list claim: one of its strings";
  EXPECT_FALSE(when("request.auth.claims[groups]", "admin"));
  EXPECT_TRUE(when("request.auth.claims[groups]", "admin", true));
  EXPECT_FALSE(when("request.auth.claims[groups]", "dev", true));
  EXPECT_TRUE(when("request.auth.claims[org][team]", "payments")) << "nested";
  EXPECT_FALSE(when("request.auth.claims[missing]", "x"));
  EXPECT_TRUE(when("request.auth.claims[missing]", "x", true));

  // OAuth's scope: one string of words. `scope` and `permission` always split; others when
  // the verifying rule names them in spaceDelimitedClaims.
  jwt.claims = boost::json::parse(R"({"scope":"read  write","roles":"a b","org":{"scope":"x y"}})").as_object();
  jwt.spaceDelimitedClaims = {"scope", "permission"};
  EXPECT_TRUE(when("request.auth.claims[scope]", "write")) << "one word of a space-delimited claim";
  EXPECT_FALSE(when("request.auth.claims[scope]", "read  write")) << "the words replace the string, as in Envoy's metadata";
  EXPECT_FALSE(when("request.auth.claims[scope]", "")) << "no empty word between two spaces";
  EXPECT_FALSE(when("request.auth.claims[scope]", "admin"));
  EXPECT_FALSE(when("request.auth.claims[roles]", "a")) << "not named: one string";
  EXPECT_FALSE(when("request.auth.claims[org][scope]", "x")) << "only top-level claims split";
  jwt.spaceDelimitedClaims.push_back("roles");
  EXPECT_TRUE(when("request.auth.claims[roles]", "b"));

  auto notAlice = policy("not-alice", weft::v1::Authorization::DENY);
  *notAlice.add_rules()->add_from()->add_not_request_principals() = exact("https://issuer.example/alice");
  EXPECT_FALSE(httpPolicyMatches(notAlice, facts));
  EXPECT_TRUE(httpPolicyMatches(notAlice, r.facts())) << "no token is not alice";
}

}  // namespace
}  // namespace weft::proxy
