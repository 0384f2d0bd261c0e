// Which clusters weft-proxy reaches over HTTP/2, decided as Istio decides it: the Service
// port's appProtocol or name prefix, then a DestinationRule's h2UpgradePolicy or
// useClientProtocol.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "control/proxy_view.h"
#include "model/decoder.h"
#include "model/service_ports.h"

namespace weft::control {
namespace {

void decodeInto(ObjectsByKind& out, const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {"", false});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  for (auto& o : decoded.objects) out[o.key().kind].push_back(std::move(o));
}

TEST(UpstreamProtocol, ServicePortProtocolReadsAppProtocolThenTheNamePrefix) {
  auto protocol = [](const char* port) { return model::servicePortProtocol(boost::json::parse(port)); };
  EXPECT_EQ(protocol(R"({"name": "grpc", "port": 1})"), "GRPC");
  EXPECT_EQ(protocol(R"({"name": "grpc-api", "port": 1})"), "GRPC");
  EXPECT_EQ(protocol(R"({"name": "grpc-web", "port": 1})"), "GRPC-Web");
  EXPECT_EQ(protocol(R"({"name": "grpc-web-x", "port": 1})"), "GRPC-Web");
  EXPECT_EQ(protocol(R"({"name": "http2-x", "port": 1})"), "HTTP2");
  EXPECT_EQ(protocol(R"({"name": "h2c", "port": 1})"), "HTTP2");
  EXPECT_EQ(protocol(R"({"name": "http", "port": 1, "appProtocol": "kubernetes.io/h2c"})"), "HTTP2");
  EXPECT_EQ(protocol(R"({"name": "web", "port": 1, "appProtocol": "grpc"})"), "GRPC");
  EXPECT_EQ(protocol(R"({"name": "grpc", "port": 1, "appProtocol": "http"})"), "HTTP") << "appProtocol wins";
  EXPECT_TRUE(model::speaksHttp2("GRPC"));
  EXPECT_TRUE(model::speaksHttp2("HTTP2"));
  EXPECT_FALSE(model::speaksHttp2("GRPC-Web"));
  EXPECT_FALSE(model::speaksHttp2("HTTP"));
}

// One Service with a port of each kind, routed from a Gateway, and DestinationRules for two
// hosts; returns every cluster's protocol by name.
std::map<std::string, weft::v1::ConnectionPool::UpstreamProtocol> protocols(const std::string& destinationRules) {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec:
  selector: {app: api}
  ports:
  - {name: grpc-main, port: 9000}
  - {name: grpc-web, port: 9001}
  - {name: web, port: 9002, appProtocol: kubernetes.io/h2c}
  - {name: http, port: 8000}
  - {name: http-alt, port: 8001}
---
apiVersion: v1
kind: Service
metadata: {name: plain, namespace: default}
spec:
  selector: {app: plain}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: all, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: api, port: {number: 9000}}}]
  - match: [{uri: {prefix: /b}}]
    route: [{destination: {host: api, port: {number: 9001}}}]
  - match: [{uri: {prefix: /c}}]
    route: [{destination: {host: api, port: {number: 9002}}}]
  - match: [{uri: {prefix: /d}}]
    route: [{destination: {host: api, port: {number: 8000}}}]
  - match: [{uri: {prefix: /e}}]
    route: [{destination: {host: api, port: {number: 8001}}}]
  - route: [{destination: {host: plain}}]
)" + destinationRules);
  RegistryBuild build;
  addProxyView(objects, build);
  std::map<std::string, weft::v1::ConnectionPool::UpstreamProtocol> out;
  for (const auto& [name, resource] : build.resources[kClusterType]) out[name] = resource.cluster().connection_pool().upstream_protocol();
  return out;
}

TEST(UpstreamProtocol, PortsAndDestinationRulesDecide) {
  using P = weft::v1::ConnectionPool;
  auto byPort = protocols("");
  EXPECT_EQ(byPort.at("outbound|9000||api.default.svc.cluster.local"), P::HTTP2);
  EXPECT_EQ(byPort.at("outbound|9001||api.default.svc.cluster.local"), P::HTTP1) << "grpc-web is HTTP/1.1";
  EXPECT_EQ(byPort.at("outbound|9002||api.default.svc.cluster.local"), P::HTTP2);
  EXPECT_EQ(byPort.at("outbound|8000||api.default.svc.cluster.local"), P::HTTP1);
  EXPECT_EQ(byPort.at("outbound|80||plain.default.svc.cluster.local"), P::HTTP1);

  auto withRules = protocols(R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api, namespace: default}
spec:
  host: api
  trafficPolicy:
    connectionPool: {http: {h2UpgradePolicy: UPGRADE}}
    portLevelSettings:
    - port: {number: 8001}
      connectionPool: {http: {h2UpgradePolicy: DO_NOT_UPGRADE}}
    - port: {number: 9000}
      connectionPool: {http: {h2UpgradePolicy: DO_NOT_UPGRADE}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: plain, namespace: default}
spec:
  host: plain
  trafficPolicy:
    connectionPool: {http: {useClientProtocol: true}}
)");
  EXPECT_EQ(withRules.at("outbound|8000||api.default.svc.cluster.local"), P::HTTP2) << "UPGRADE";
  EXPECT_EQ(withRules.at("outbound|8001||api.default.svc.cluster.local"), P::HTTP1) << "DO_NOT_UPGRADE at the port level";
  EXPECT_EQ(withRules.at("outbound|9000||api.default.svc.cluster.local"), P::HTTP2) << "a gRPC port is HTTP/2 whatever the policy";
  EXPECT_EQ(withRules.at("outbound|80||plain.default.svc.cluster.local"), P::CLIENT);
}

}  // namespace
}  // namespace weft::control
