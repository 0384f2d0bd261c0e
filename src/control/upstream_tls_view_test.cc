// DestinationRule tls and ServiceEntry destinations in the proxy view: what weftd gives a
// gateway for Istio's TLS-origination setup (a ServiceEntry host routed from a Gateway,
// with a DestinationRule's tls).
#include <gtest/gtest.h>

#include "control/proxy_view.h"
#include "model/decoder.h"

namespace weft::control {
namespace {

void decodeInto(ObjectsByKind& out, const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {"default", false});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  for (auto& o : decoded.objects) out[o.key().kind].push_back(std::move(o));
}

const weft::v1::Cluster* clusterOf(const RegistryBuild& b, const std::string& name) {
  auto types = b.resources.find(kClusterType);
  if (types == b.resources.end() || !types->second.contains(name)) return nullptr;
  return &types->second.at(name).cluster();
}

bool noted(const RegistryBuild& b, const std::string& text) {
  for (const auto& n : b.notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

// A Gateway routing secure.example.com (a ServiceEntry) and a DestinationRule `rule`.
RegistryBuild buildWith(const std::string& entry, const std::string& rule, const std::string& extra = "") {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  gateways: [gw]
  http:
  - match: [{headers: {x-version: {exact: v2}}}]
    route: [{destination: {host: secure.example.com, subset: v2, port: {number: 80}}}]
  - route: [{destination: {host: secure.example.com, port: {number: 80}}}]
)");
  decodeInto(objects, entry);
  if (!rule.empty()) decodeInto(objects, rule);
  if (!extra.empty()) decodeInto(objects, extra);
  RegistryBuild out;
  addProxyView(objects, out);
  return out;
}

const char* kStaticEntry = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  location: MESH_EXTERNAL
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8443}, {number: 9000, name: grpc, protocol: GRPC}]
  resolution: STATIC
  endpoints:
  - {address: 198.18.0.251, labels: {version: v1}}
  - {address: 198.18.0.252, labels: {version: v2}, ports: {http: 9443}}
)";

const char* kRule = R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure}
spec:
  host: secure.example.com
  trafficPolicy:
    tls: {mode: SIMPLE, sni: secure.example.com, subjectAltNames: [secure.example.com], caCertificates: /etc/ca.pem}
    portLevelSettings:
    - port: {number: 80}
      tls: {mode: MUTUAL, credentialName: client-credential}
  subsets:
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      tls: {mode: ISTIO_MUTUAL}
)";

TEST(UpstreamTlsView, AServiceEntryHostIsAClusterWithItsEndpointsAndTargetPorts) {
  auto b = buildWith(kStaticEntry, "");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->service_known());
  EXPECT_EQ(c->service_namespace(), "default");
  ASSERT_EQ(c->endpoints_size(), 2);
  EXPECT_EQ(c->endpoints(0), "198.18.0.251:8443") << "the port's targetPort";
  EXPECT_EQ(c->endpoints(1), "198.18.0.252:9443") << "the endpoint's own port for that port name";
  EXPECT_TRUE(c->hbone_identities().empty()) << "outside the mesh";
  EXPECT_EQ(c->connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP1);
  EXPECT_FALSE(noted(b, "not a known Service"));
}

TEST(UpstreamTlsView, TlsIsMergedServicePortAndSubsetLevelsEachReplacingTheLast) {
  auto b = buildWith(kStaticEntry, kRule);
  const auto* port80 = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(port80, nullptr);
  EXPECT_EQ(port80->tls().mode(), weft::v1::UpstreamTls::MUTUAL);
  EXPECT_EQ(port80->tls().credential_name(), "client-credential");
  EXPECT_EQ(port80->tls().sni(), "") << "the port level replaced the section whole";
  EXPECT_TRUE(port80->tls().subject_alt_names().empty());
  const auto* v2 = clusterOf(b, "outbound|80|v2|secure.example.com");
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->tls().mode(), weft::v1::UpstreamTls::ISTIO_MUTUAL);
  ASSERT_EQ(v2->endpoints_size(), 1) << "the subset's labels pick the endpoint";
  EXPECT_EQ(v2->endpoints(0), "198.18.0.252:9443");
  EXPECT_FALSE(noted(b, "trafficPolicy.tls is not served"));
}

TEST(UpstreamTlsView, ServiceLevelTlsFieldsAreAllCompiled) {
  auto b = buildWith(kStaticEntry, R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure}
spec:
  host: secure.example.com
  trafficPolicy:
    tls: {mode: SIMPLE, sni: api.example.com, subjectAltNames: [a.example.com, spiffe://x/y], caCertificates: /etc/ca.pem, caCrl: /etc/crl.pem}
    tunnel: {targetHost: proxy.example.com, targetPort: 3128}
)");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->tls().mode(), weft::v1::UpstreamTls::SIMPLE);
  EXPECT_EQ(c->tls().sni(), "api.example.com");
  ASSERT_EQ(c->tls().subject_alt_names_size(), 2);
  EXPECT_EQ(c->tls().subject_alt_names(1), "spiffe://x/y");
  EXPECT_EQ(c->tls().ca_certificates(), "/etc/ca.pem");
  EXPECT_EQ(c->tls().ca_crl(), "/etc/crl.pem");
  EXPECT_TRUE(noted(b, "trafficPolicy.tunnel is not served")) << "tunnel is still noted";
}

TEST(UpstreamTlsView, ACredentialSecretsVersionIsInTheClusterSoRotationReachesProxies) {
  const char* secret = R"(
apiVersion: v1
kind: Secret
metadata: {name: client-credential, namespace: istio-system, resourceVersion: "7"}
data: {tls.crt: eA==}
)";
  auto before = buildWith(kStaticEntry, kRule, "");
  auto with = buildWith(kStaticEntry, kRule, secret);
  std::string rotatedSecret = secret;
  rotatedSecret.replace(rotatedSecret.find("\"7\""), 3, "\"8\"");
  auto rotated = buildWith(kStaticEntry, kRule, rotatedSecret);
  const auto* none = clusterOf(before, "outbound|80||secure.example.com");
  const auto* seven = clusterOf(with, "outbound|80||secure.example.com");
  const auto* eight = clusterOf(rotated, "outbound|80||secure.example.com");
  ASSERT_TRUE(none && seven && eight);
  EXPECT_TRUE(none->tls().credential_versions().empty());
  ASSERT_TRUE(seven->tls().credential_versions().contains("istio-system"));
  EXPECT_EQ(seven->tls().credential_versions().at("istio-system"), "client-credential@7");
  EXPECT_NE(seven->SerializeAsString(), eight->SerializeAsString()) << "the rotated Secret changes the cluster";
}

TEST(UpstreamTlsView, AGrpcPortIsHttp2AndDnsNamesAreNotedNotInvented) {
  auto b = buildWith(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  ports: [{number: 80, name: grpc, protocol: GRPC}]
  resolution: DNS
  endpoints: [{address: backend.example.net}, {address: 203.0.113.7}]
)", "");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP2);
  ASSERT_EQ(c->endpoints_size(), 1);
  EXPECT_EQ(c->endpoints(0), "203.0.113.7:80");
  EXPECT_TRUE(noted(b, "\"backend.example.net\" is not an IPv4 address"));
  auto empty = buildWith(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
)", "");
  const auto* dns = clusterOf(empty, "outbound|80||secure.example.com");
  ASSERT_NE(dns, nullptr);
  EXPECT_EQ(dns->endpoints_size(), 0);
  EXPECT_TRUE(noted(empty, "resolution DNS without endpoints"));
}

TEST(UpstreamTlsView, APortTheEntryLacksIsNoted) {
  auto b = buildWith(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  ports: [{number: 443, name: https, protocol: HTTPS}]
  resolution: STATIC
  endpoints: [{address: 198.18.0.251}]
)", "");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->endpoints_size(), 0);
  EXPECT_TRUE(noted(b, "ServiceEntry default/secure has no port 80"));
}

}  // namespace
}  // namespace weft::control
