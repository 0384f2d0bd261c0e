#include "localcluster/node_ports.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>

#include "localcluster/test_objects.h"
#include "model/json_access.h"

namespace weft::localcluster {
namespace {

namespace json = boost::json;
using model::at;
using testing::object;
using testing::with;

// `ports` is the YAML flow list of spec.ports; `created` orders Services by age.
model::Object service(const std::string& name, const std::string& type, const std::string& ports,
                      const std::string& created = "2024-01-01T00:00:00Z") {
  auto svc = object(fmt::format(R"(
apiVersion: v1
kind: Service
metadata: {{name: {}, namespace: default}}
spec:
  type: {}
  clusterIP: 198.19.0.20
  selector: {{app: httpbin}}
  ports: {}
)",
                                name, type, ports));
  return with(svc, {"metadata", "creationTimestamp"}, json::string(created));
}

std::vector<int> nodePortsOf(const NodePortAllocation& allocation, const std::string& name) {
  std::vector<int> ports;
  for (const auto& a : allocation.assigned) {
    if (a.name == name) ports.push_back(a.nodePort);
  }
  return ports;
}

bool inRange(int port) { return port >= kNodePortMin && port <= kNodePortMax; }

TEST(NodePorts, EveryPortOfNodePortAndLoadBalancerServicesGetsOneInRange) {
  std::vector<model::Object> services{
      service("gateway", "LoadBalancer", "[{name: http2, port: 80}, {name: https, port: 443}, {name: status-port, port: 15021}]"),
      service("web", "NodePort", "[{port: 8000, targetPort: 8080}]"),
      service("plain", "ClusterIP", "[{port: 8000, nodePort: 30001}]"),
  };
  auto allocation = allocateNodePorts(services, {});
  EXPECT_TRUE(allocation.refused.empty());
  auto gateway = nodePortsOf(allocation, "gateway");
  ASSERT_EQ(gateway.size(), 3u);
  ASSERT_EQ(nodePortsOf(allocation, "web").size(), 1u);
  EXPECT_TRUE(nodePortsOf(allocation, "plain").empty()) << "a ClusterIP Service has no node ports";
  std::set<int> distinct;
  for (const auto& a : allocation.assigned) {
    EXPECT_TRUE(inRange(a.nodePort)) << a.nodePort;
    distinct.insert(a.nodePort);
  }
  EXPECT_EQ(distinct.size(), allocation.assigned.size());
  EXPECT_EQ(allocation.assigned[0].protocol, "TCP");
  // The same Services get the same ports again, even from nothing (a runtime restart
  // before anything was written back).
  EXPECT_EQ(allocateNodePorts(services, {}).assigned, allocation.assigned);
}

TEST(NodePorts, AGivenFreeNodePortIsKept) {
  auto allocation = allocateNodePorts({service("web", "NodePort", "[{name: a, port: 8000, nodePort: 30080}, {name: b, port: 9000}]")}, {});
  EXPECT_TRUE(allocation.refused.empty());
  auto ports = nodePortsOf(allocation, "web");
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0], 30080);
  EXPECT_NE(ports[1], 30080);
}

TEST(NodePorts, ATakenNodePortIsRefusedAndTheOlderServiceKeepsIt) {
  // Listed young first: age decides, not order.
  std::vector<model::Object> services{
      service("young", "NodePort", "[{port: 80, nodePort: 30080}]", "2024-01-02T00:00:00Z"),
      service("old", "LoadBalancer", "[{port: 80, nodePort: 30080}]", "2024-01-01T00:00:00Z"),
  };
  auto allocation = allocateNodePorts(services, {});
  EXPECT_EQ(nodePortsOf(allocation, "old"), std::vector<int>{30080});
  EXPECT_TRUE(nodePortsOf(allocation, "young").empty());
  ASSERT_EQ(allocation.refused.size(), 1u);
  EXPECT_EQ(allocation.refused[0], "service default/young port 80/TCP: nodePort 30080 is already allocated to service default/old");
}

TEST(NodePorts, ADuplicateWithinOneServiceIsRefusedUnlessTheProtocolDiffers) {
  auto duplicate = allocateNodePorts({service("dns", "NodePort", "[{name: a, port: 53, nodePort: 30053}, {name: b, port: 54, nodePort: 30053}]")}, {});
  EXPECT_EQ(nodePortsOf(duplicate, "dns"), std::vector<int>{30053});
  ASSERT_EQ(duplicate.refused.size(), 1u);
  EXPECT_NE(duplicate.refused[0].find("port 54/TCP: nodePort 30053 is already allocated to service default/dns"), std::string::npos);

  auto both = allocateNodePorts(
      {service("dns", "NodePort", "[{name: tcp, port: 53, nodePort: 30053}, {name: udp, port: 53, protocol: UDP, nodePort: 30053}]")}, {});
  EXPECT_TRUE(both.refused.empty());
  EXPECT_EQ(nodePortsOf(both, "dns"), (std::vector<int>{30053, 30053}));
  EXPECT_EQ(both.assigned[1].protocol, "UDP");
}

TEST(NodePorts, OutOfRangeNodePortsAreRefused) {
  auto allocation = allocateNodePorts({service("low", "NodePort", "[{port: 80, nodePort: 29999}]"),
                                       service("high", "NodePort", "[{port: 80, nodePort: 32768}]"),
                                       service("edge", "NodePort", "[{name: a, port: 80, nodePort: 32767}, {name: b, port: 81, nodePort: 30000}]")},
                                      {});
  EXPECT_TRUE(nodePortsOf(allocation, "low").empty());
  EXPECT_TRUE(nodePortsOf(allocation, "high").empty());
  EXPECT_EQ(nodePortsOf(allocation, "edge"), (std::vector<int>{32767, 30000}));
  ASSERT_EQ(allocation.refused.size(), 2u);
  std::string all;
  for (const auto& r : allocation.refused) all += r + "\n";
  EXPECT_NE(all.find("service default/low port 80/TCP: nodePort 29999 is outside the node port range 30000-32767"), std::string::npos) << all;
  EXPECT_NE(all.find("nodePort 32768 is outside"), std::string::npos) << all;
}

TEST(NodePorts, PicksNeverTakeANumberSomeoneWroteDown) {
  std::vector<model::Object> services;
  for (int i = 0; i < 40; ++i) services.push_back(service(fmt::format("auto{}", i), "NodePort", "[{name: http, port: 80}, {name: https, port: 443}]"));
  auto first = allocateNodePorts(services, {});
  // Every picked number is now asked for explicitly by a younger Service...
  std::vector<model::Object> withClaims;
  for (const auto& a : first.assigned) {
    withClaims.push_back(service("claim-" + a.name + "-" + std::to_string(a.port), "NodePort",
                                 fmt::format("[{{port: 80, nodePort: {}}}]", a.nodePort), "2024-01-01T00:00:00Z"));
  }
  // ...that is older than the auto Services here: the picks must move.
  for (auto& s : services) s = with(s, {"metadata", "creationTimestamp"}, json::string("2024-02-01T00:00:00Z"));
  withClaims.insert(withClaims.end(), services.begin(), services.end());
  auto second = allocateNodePorts(withClaims, {});
  EXPECT_TRUE(second.refused.empty());
  std::set<int> seen;
  for (const auto& a : second.assigned) EXPECT_TRUE(seen.insert(a.nodePort).second) << "node port " << a.nodePort << " given twice";
  EXPECT_EQ(second.assigned.size(), 2 * first.assigned.size());
}

TEST(NodePorts, APortKeepsWhatItHadWhenItsServiceIsReappliedWithout) {
  auto gateway = service("gateway", "LoadBalancer", "[{name: http2, port: 80, nodePort: 31234}]", "2024-01-01T00:00:00Z");
  auto before = allocateNodePorts({gateway}, {});
  // `weft apply` of the rendered Service again: no nodePort in it, and a younger Service
  // asking for the same number meanwhile.
  auto reapplied = service("gateway", "LoadBalancer", "[{name: http2, port: 80}]", "2024-01-01T00:00:00Z");
  auto rival = service("rival", "NodePort", "[{port: 80, nodePort: 31234}]", "2024-01-03T00:00:00Z");
  auto after = allocateNodePorts({reapplied, rival}, before.assigned);
  EXPECT_EQ(nodePortsOf(after, "gateway"), std::vector<int>{31234});
  EXPECT_TRUE(nodePortsOf(after, "rival").empty());
  EXPECT_EQ(after.refused.size(), 1u);
}

TEST(NodePorts, TheSpecCarriesTheAllocationAndDropsNodePortsOfOtherTypes) {
  auto web = service("web", "NodePort", "[{name: a, port: 8000}, {name: b, port: 9000, nodePort: 29999}]");
  auto allocation = allocateNodePorts({web}, {});
  json::value spec = specWithNodePorts(web, allocation);
  const auto& ports = spec.at("ports").as_array();
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0].at("nodePort"), json::value(nodePortsOf(allocation, "web").at(0)));
  EXPECT_EQ(ports[1].at("nodePort"), json::value(29999)) << "a refused value stays as the user wrote it";
  EXPECT_EQ(spec.at("type"), json::value("NodePort"));

  auto demoted = service("web", "ClusterIP", "[{port: 8000, nodePort: 30080}]");
  json::value plain = specWithNodePorts(demoted, allocateNodePorts({demoted}, {}));
  EXPECT_FALSE(plain.at("ports").as_array()[0].as_object().contains("nodePort"));
}

TEST(NodePorts, ALoadBalancerGetsTheLoopbackAsItsIngress) {
  auto lb = loadBalancerStatus(service("gateway", "LoadBalancer", "[{port: 80}]"));
  EXPECT_EQ(json::serialize(lb), R"({"ingress":[{"ip":"127.0.0.1"}]})");
  EXPECT_EQ(loadBalancerStatus(service("web", "NodePort", "[{port: 80}]")), json::value(json::object()));
}

}  // namespace
}  // namespace weft::localcluster
