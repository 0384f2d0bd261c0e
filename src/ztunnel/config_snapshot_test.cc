#include "ztunnel/config_snapshot.h"

#include <gtest/gtest.h>

#include "ztunnel/test_config.h"

namespace weft::ztunnel {
namespace {

using testing::add;
using testing::workload;

weft::v1::Service httpbinService() {
  weft::v1::Service s;
  s.set_name("httpbin");
  s.set_namespace_("default");
  s.set_hostname("httpbin.default.svc.cluster.local");
  s.add_addresses("198.19.0.10");
  auto* port = s.add_ports();
  port->set_port(8000);
  port->set_target_port(8080);
  return s;
}

TEST(ConfigSnapshot, IndexesWorkloadsServicesAndEndpoints) {
  xds::HeldResources held;
  auto httpbin = workload("default", "httpbin-1", "198.18.1.5", "httpbin", {{"app", "httpbin"}});
  weft::v1::PortList ports;
  auto* p = ports.add_ports();
  p->set_service_port(8000);
  p->set_target_port(8080);
  (*httpbin.mutable_services())["default/httpbin.default.svc.cluster.local"] = ports;
  add(held, httpbin);
  add(held, workload("default", "curl-1", "198.18.1.6", "curl"));
  add(held, httpbinService());
  weft::v1::MeshConfig mesh;
  mesh.set_trust_domain("acmellc.local");
  mesh.set_outbound_traffic_policy("REGISTRY_ONLY");
  add(held, mesh);

  auto snapshot = ConfigSnapshot::build(held);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
  const auto& config = **snapshot;
  ASSERT_NE(config.workloadAt(*Ipv4Address::parse("198.18.1.5")), nullptr);
  EXPECT_EQ(config.workloadAt(*Ipv4Address::parse("198.18.1.5"))->name(), "httpbin-1");
  EXPECT_EQ(config.workloadAt(*Ipv4Address::parse("198.18.1.99")), nullptr);
  const auto* service = config.serviceAt(*Ipv4Address::parse("198.19.0.10"));
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(service->endpoints.size(), 1u);
  EXPECT_EQ(service->endpoints[0].workload->name(), "httpbin-1");
  EXPECT_EQ(service->endpoints[0].targetPortFor(8000), 8080u);
  EXPECT_EQ(service->endpoints[0].targetPortFor(9000), 9000u);
  EXPECT_EQ(config.trustDomain(), "acmellc.local");
  EXPECT_TRUE(config.registryOnly());
}

TEST(ConfigSnapshot, RefusesAddressesThatAreNotIpv4NamingTheResource) {
  xds::HeldResources held;
  add(held, workload("default", "bad", "not-an-ip", "sa"));
  auto snapshot = ConfigSnapshot::build(held);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().message.find("Kubernetes//Pod/default/bad"), std::string::npos) << snapshot.error().message;
}

TEST(ConfigSnapshot, RefusesPolicyCidrsThatDoNotParse) {
  xds::HeldResources held;
  weft::v1::Authorization policy;
  policy.set_name("p");
  policy.set_namespace_("default");
  policy.add_groups()->add_ip_blocks("10.0.0.0/40");
  add(held, policy);
  auto snapshot = ConfigSnapshot::build(held);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().message.find("10.0.0.0/40"), std::string::npos);
}

TEST(ConfigSnapshot, IdentityDefaultsTrustDomainAndServiceAccount) {
  weft::v1::Workload w;
  w.set_namespace_("ns");
  EXPECT_EQ(workloadIdentity(w), "spiffe://cluster.local/ns/ns/sa/default");
}

TEST(ConfigHolder, SwapsWholeSnapshots) {
  ConfigHolder holder;
  auto before = holder.get();
  EXPECT_TRUE(before->workloads().empty());
  xds::HeldResources held;
  add(held, workload("default", "a", "198.18.1.1", "a"));
  holder.set(*ConfigSnapshot::build(held));
  EXPECT_EQ(holder.get()->workloads().size(), 1u);
  EXPECT_TRUE(before->workloads().empty());  // a reader's pinned snapshot does not change
}

}  // namespace
}  // namespace weft::ztunnel
