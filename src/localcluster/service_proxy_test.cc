#include "localcluster/service_proxy.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "localcluster/test_objects.h"
#include "model/json_access.h"

namespace weft::localcluster {
namespace {

namespace json = boost::json;
using testing::object;
using testing::with;

model::Object readyPod(std::string name, std::string ip, bool ready, std::string ns = "default") {
  auto pod = object(fmt::format(R"(
apiVersion: v1
kind: Pod
metadata: {{name: {}, namespace: {}, labels: {{app: httpbin}}, uid: uid-{}}}
spec:
  nodeName: c-worker
  containers: [{{name: httpbin, image: x, ports: [{{name: http-web, containerPort: 8080}}]}}]
)",
                                name, ns, name));
  pod = with(pod, {"status", "podIP"}, json::string(ip));
  return with(pod, {"status", "conditions"}, json::array{json::object{{"type", "Ready"}, {"status", ready ? "True" : "False"}}});
}

model::Object service(std::string targetPort = "8080", std::string clusterIp = "198.19.0.20") {
  return object(fmt::format(R"(
apiVersion: v1
kind: Service
metadata: {{name: httpbin, namespace: default, labels: {{app: httpbin}}}}
spec:
  clusterIP: {}
  selector: {{app: httpbin}}
  ports: [{{name: http, port: 8000, targetPort: {}}}]
)",
                            clusterIp, targetPort));
}

model::Object asObject(const json::value& v) { return model::Object(model::findKind("v1", "Endpoints"), v); }

TEST(ServiceProxy, ClusterIpsAreStableAndSkipReservedAddresses) {
  auto range = *Ipv4Cidr::parse("198.19.0.0/28");
  auto first = allocateClusterIp(range, "default", "httpbin", {});
  ASSERT_TRUE(first);
  EXPECT_EQ(first, allocateClusterIp(range, "default", "httpbin", {}));
  std::set<uint32_t> used;
  for (int i = 0; i < 12; ++i) {
    auto ip = allocateClusterIp(range, "default", fmt::format("s{}", i), used);
    ASSERT_TRUE(ip) << i;
    uint32_t offset = ip->value - range.base.value;
    EXPECT_NE(offset, 0u);
    EXPECT_NE(offset, 1u);
    EXPECT_NE(offset, 10u);
    EXPECT_NE(offset, 15u);
    EXPECT_FALSE(used.contains(ip->value));
    used.insert(ip->value);
  }
  EXPECT_FALSE(allocateClusterIp(range, "default", "full", used)) << "a full range says so";
}

TEST(ServiceProxy, EndpointsSplitReadyAndNotReady) {
  auto endpoints = endpointsFor(service(), {readyPod("a", "198.18.1.2", true), readyPod("b", "198.18.2.2", false),
                                            readyPod("c", "198.18.1.3", true, "other")});
  const auto& subsets = endpoints.at("subsets").as_array();
  ASSERT_EQ(subsets.size(), 1u);
  ASSERT_EQ(subsets[0].at("addresses").as_array().size(), 1u);
  EXPECT_EQ(subsets[0].at("addresses").at(0).at("ip"), json::value("198.18.1.2"));
  EXPECT_EQ(subsets[0].at("addresses").at(0).at("targetRef").at("name"), json::value("a"));
  EXPECT_EQ(subsets[0].at("notReadyAddresses").at(0).at("ip"), json::value("198.18.2.2"));
  EXPECT_EQ(subsets[0].at("ports").at(0).at("port"), json::value(8080));
  EXPECT_EQ(subsets[0].at("ports").at(0).at("name"), json::value("http"));
  auto decoded = model::decodeYaml(json::serialize(endpoints), "ep.json", {});
  EXPECT_TRUE(decoded.ok());
}

TEST(ServiceProxy, NamedTargetPortsResolveThroughContainerPorts) {
  auto endpoints = endpointsFor(service("http-web"), {readyPod("a", "198.18.1.2", true)});
  EXPECT_EQ(endpoints.at("subsets").at(0).at("ports").at(0).at("port"), json::value(8080));
  auto missing = endpointsFor(service("no-such-port"), {readyPod("a", "198.18.1.2", true)});
  EXPECT_FALSE(missing.as_object().contains("subsets"));
}

TEST(ServiceProxy, RulesSpreadEvenlyAndMarkHairpins) {
  auto eps = asObject(endpointsFor(service(), {readyPod("a", "198.18.1.2", true), readyPod("b", "198.18.2.2", true)}));
  auto rules = servicePortRules({service()}, {eps});
  ASSERT_EQ(rules.size(), 1u);
  ASSERT_EQ(rules[0].endpoints.size(), 2u);
  std::string text = renderServiceRules(rules, {});
  EXPECT_NE(text.find("-A WEFT-SERVICES -d 198.19.0.20/32 -p tcp -m tcp --dport 8000 -m comment --comment \"default/httpbin:http\" -j WEFT-SVC-"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("-m statistic --mode random --probability 0.5000000000 -j WEFT-SEP-"), std::string::npos) << text;
  EXPECT_NE(text.find("-s 198.18.1.2/32 -j MARK --set-xmark 0x4000/0x4000"), std::string::npos);
  EXPECT_NE(text.find("-j DNAT --to-destination 198.18.2.2:8080"), std::string::npos);
  EXPECT_EQ(serviceChains(rules).size(), 3u);
  EXPECT_EQ(text.find("REJECT"), std::string::npos);
}

TEST(ServiceProxy, NoReadyEndpointsRejectAtOnce) {
  auto eps = asObject(endpointsFor(service(), {readyPod("a", "198.18.1.2", false)}));
  std::string text = renderServiceRules(servicePortRules({service()}, {eps}), {});
  EXPECT_NE(text.find("-A WEFT-NO-ENDPOINTS -d 198.19.0.20/32 -p tcp -m tcp --dport 8000"), std::string::npos) << text;
  EXPECT_NE(text.find("-j REJECT --reject-with icmp-port-unreachable"), std::string::npos);
}

TEST(ServiceProxy, StaleChainsAreFlushedAndDeleted) {
  std::string text = renderServiceRules({}, {"WEFT-SVC-0000000000000001", "WEFT-SEP-0000000000000002"});
  EXPECT_NE(text.find(":WEFT-SVC-0000000000000001 - [0:0]\n"), std::string::npos);
  EXPECT_NE(text.find("-X WEFT-SVC-0000000000000001\n"), std::string::npos);
  EXPECT_NE(text.find("-X WEFT-SEP-0000000000000002\n"), std::string::npos);
  std::string saved = "*nat\n:PREROUTING ACCEPT [0:0]\n:WEFT-SERVICES - [0:0]\n:WEFT-SVC-AB - [0:0]\n:WEFT-SEP-CD - [0:0]\nCOMMIT\n";
  EXPECT_EQ(chainsInSave(saved), (std::set<std::string>{"WEFT-SEP-CD", "WEFT-SVC-AB"}));
}

TEST(ServiceProxy, HostsFileNamesServicesLikeClusterDns) {
  auto entries = serviceHostEntries({service()}, {}, "default");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].names, (std::vector<std::string>{"httpbin", "httpbin.default", "httpbin.default.svc",
                                                        "httpbin.default.svc.cluster.local"}));
  auto elsewhere = serviceHostEntries({service()}, {}, "istio-system");
  EXPECT_EQ(elsewhere[0].names.front(), "httpbin.default") << "short names only within the namespace";
  std::string hosts = renderHostsFile("198.18.1.2", "curl-abc", entries);
  EXPECT_NE(hosts.find("198.18.1.2\tcurl-abc\n"), std::string::npos);
  EXPECT_NE(hosts.find("198.19.0.20\thttpbin\thttpbin.default\t"), std::string::npos);
}

TEST(ServiceProxy, HeadlessServicesResolveToEndpoints) {
  auto headless = service("8080", "None");
  auto eps = asObject(endpointsFor(headless, {readyPod("a", "198.18.1.2", true), readyPod("b", "198.18.2.2", true)}));
  auto entries = serviceHostEntries({headless}, {eps}, "default");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].ip, "198.18.1.2");
  EXPECT_TRUE(servicePortRules({headless}, {eps}).empty());
}

}  // namespace
}  // namespace weft::localcluster
