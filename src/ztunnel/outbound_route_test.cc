#include "ztunnel/outbound_route.h"

#include <gtest/gtest.h>

#include "ztunnel/test_config.h"

namespace weft::ztunnel {
namespace {

using testing::add;
using Kind = OutboundRoute::Kind;

Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

class OutboundRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_.set_name("httpbin");
    service_.set_namespace_("default");
    service_.set_hostname("httpbin.default.svc.cluster.local");
    service_.add_addresses("198.19.0.10");
    auto* port = service_.add_ports();
    port->set_port(8000);
    port->set_target_port(8080);
  }

  weft::v1::Workload backend(const std::string& name, const std::string& address, bool healthy = true, bool mesh = true) {
    auto w = testing::workload("default", name, address, "httpbin");
    w.set_healthy(healthy);
    w.set_tunnel_protocol(mesh ? weft::v1::Workload::HBONE : weft::v1::Workload::TCP);
    weft::v1::PortList ports;
    auto* p = ports.add_ports();
    p->set_service_port(8000);
    p->set_target_port(8080);
    (*w.mutable_services())["default/httpbin.default.svc.cluster.local"] = ports;
    return w;
  }

  OutboundRoute route(const char* destination, uint32_t port, uint64_t pick = 0) {
    snapshot_ = *ConfigSnapshot::build(held_);
    return routeOutbound(*snapshot_, ip(destination), port, pick);
  }

  xds::HeldResources held_;
  weft::v1::Service service_;
  std::shared_ptr<const ConfigSnapshot> snapshot_;
};

TEST_F(OutboundRouteTest, ServiceVipGoesOverHboneToAReadyEndpointsTargetPort) {
  add(held_, service_);
  add(held_, backend("httpbin-1", "198.18.1.5"));
  auto r = route("198.19.0.10", 8000);
  ASSERT_EQ(r.kind, Kind::kHbone);
  EXPECT_EQ(r.address.str(), "198.18.1.5");
  EXPECT_EQ(r.authority, "198.18.1.5:8080");
  ASSERT_EQ(r.expectedIdentities.size(), 1u);
  EXPECT_EQ(r.expectedIdentities[0], "spiffe://cluster.local/ns/default/sa/httpbin");
  ASSERT_NE(r.service, nullptr);
}

TEST_F(OutboundRouteTest, SkipsEndpointsThatAreNotReadyAndSpreadsOverTheRest) {
  add(held_, service_);
  add(held_, backend("a", "198.18.1.5"));
  add(held_, backend("b", "198.18.1.6", false));
  add(held_, backend("c", "198.18.1.7"));
  std::set<std::string> seen;
  for (uint64_t pick = 0; pick < 4; ++pick) seen.insert(route("198.19.0.10", 8000, pick).address.str());
  EXPECT_EQ(seen, (std::set<std::string>{"198.18.1.5", "198.18.1.7"}));
}

TEST_F(OutboundRouteTest, NoReadyEndpointIsRefusedWithUH) {
  add(held_, service_);
  add(held_, backend("a", "198.18.1.5", false));
  auto r = route("198.19.0.10", 8000);
  EXPECT_EQ(r.kind, Kind::kRefused);
  EXPECT_EQ(r.responseFlag, "UH");
}

TEST_F(OutboundRouteTest, UnknownServicePortIsRefused) {
  add(held_, service_);
  add(held_, backend("a", "198.18.1.5"));
  EXPECT_EQ(route("198.19.0.10", 9999).kind, Kind::kRefused);
}

TEST_F(OutboundRouteTest, EndpointOutsideTheMeshIsPlainTcp) {
  add(held_, service_);
  add(held_, backend("a", "198.18.1.5", true, false));
  auto r = route("198.19.0.10", 8000);
  EXPECT_EQ(r.kind, Kind::kPassthrough);
  EXPECT_EQ(r.address.str(), "198.18.1.5");
  EXPECT_EQ(r.port, 8080u);
}

TEST_F(OutboundRouteTest, PodIpDialledDirectly) {
  add(held_, backend("a", "198.18.1.5"));
  auto r = route("198.18.1.5", 8080);
  EXPECT_EQ(r.kind, Kind::kHbone);
  EXPECT_EQ(r.authority, "198.18.1.5:8080");
}

TEST_F(OutboundRouteTest, UnknownDestinationPassesUnderAllowAnyAndIsRefusedUnderRegistryOnly) {
  EXPECT_EQ(route("203.0.113.7", 443).kind, Kind::kPassthrough);
  weft::v1::MeshConfig mesh;
  mesh.set_outbound_traffic_policy("REGISTRY_ONLY");
  add(held_, mesh);
  auto r = route("203.0.113.7", 443);
  EXPECT_EQ(r.kind, Kind::kRefused);
  EXPECT_EQ(r.responseFlag, "BlackHoleCluster");
  EXPECT_NE(r.reason.find("REGISTRY_ONLY"), std::string::npos);
}

TEST_F(OutboundRouteTest, ServiceEntryAddressIsKnownUnderRegistryOnly) {
  weft::v1::MeshConfig mesh;
  mesh.set_outbound_traffic_policy("REGISTRY_ONLY");
  add(held_, mesh);
  weft::v1::Service external;
  external.set_name("api");
  external.set_namespace_("default");
  external.set_hostname("api.example.com");
  external.add_addresses("203.0.113.7");
  external.set_from_service_entry(true);
  external.add_ports()->set_port(443);
  add(held_, external);
  auto r = route("203.0.113.7", 443);
  EXPECT_EQ(r.kind, Kind::kPassthrough);
  EXPECT_EQ(r.address.str(), "203.0.113.7");
}

TEST_F(OutboundRouteTest, ServiceWithWaypointGoesToTheWaypointWithTheVipAsAuthority) {
  service_.set_waypoint("default/waypoint");
  add(held_, service_);
  add(held_, backend("a", "198.18.1.5"));
  add(held_, testing::workload("default", "waypoint-1", "198.18.1.9", "waypoint", {{"gateway.networking.k8s.io/gateway-name", "waypoint"}}));
  auto r = route("198.19.0.10", 8000);
  ASSERT_EQ(r.kind, Kind::kHbone);
  EXPECT_EQ(r.address.str(), "198.18.1.9");
  EXPECT_EQ(r.authority, "198.19.0.10:8000");
  EXPECT_EQ(r.expectedIdentities[0], "spiffe://cluster.local/ns/default/sa/waypoint");
}

TEST_F(OutboundRouteTest, AnUnenrolledWaypointPodIsStillReachedOverHboneWithItsIdentityChecked) {
  // Waypoint pods carry istio.io/dataplane-mode=none: the registry sends them as TCP workloads.
  service_.set_waypoint("default/waypoint");
  add(held_, service_);
  auto waypoint = testing::workload("default", "waypoint-1", "198.18.1.9", "waypoint", {{"gateway.networking.k8s.io/gateway-name", "waypoint"}});
  waypoint.set_tunnel_protocol(weft::v1::Workload::TCP);
  add(held_, waypoint);
  auto r = route("198.19.0.10", 8000);
  ASSERT_EQ(r.kind, Kind::kHbone);
  EXPECT_EQ(r.address.str(), "198.18.1.9");
  EXPECT_EQ(r.authority, "198.19.0.10:8000");
  ASSERT_EQ(r.expectedIdentities.size(), 1u);
  EXPECT_EQ(r.expectedIdentities[0], "spiffe://cluster.local/ns/default/sa/waypoint");
}

}  // namespace
}  // namespace weft::ztunnel
