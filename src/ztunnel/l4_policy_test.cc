#include "ztunnel/l4_policy.h"

#include <gtest/gtest.h>

#include "ztunnel/test_config.h"

namespace weft::ztunnel {
namespace {

using testing::add;
using weft::v1::Authorization;

constexpr const char* kCurl = "spiffe://cluster.local/ns/default/sa/curl";
constexpr const char* kOther = "spiffe://cluster.local/ns/other/sa/app";

class L4PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weft::v1::MeshConfig mesh;
    mesh.set_root_namespace("istio-system");
    add(held_, mesh);
    destination_ = testing::workload("default", "httpbin-1", "198.18.1.5", "httpbin", {{"app", "httpbin"}});
  }

  Authorization& policy(const std::string& ns, const std::string& name, Authorization::Action action) {
    auto& p = policies_.emplace_back();
    p.set_name(name);
    p.set_namespace_(ns);
    p.set_action(action);
    p.set_scope(ns == "istio-system" ? Authorization::GLOBAL : Authorization::NAMESPACE);
    return p;
  }

  L4Decision decide(const std::string& identity, uint32_t port = 8080, const std::string& source = "198.18.1.6") {
    xds::HeldResources held = held_;
    for (const auto& p : policies_) add(held, p);
    auto snapshot = ConfigSnapshot::build(held);
    EXPECT_TRUE(snapshot.ok());
    return evaluateL4Policy(**snapshot, destination_, {identity, *Ipv4Address::parse(source), *Ipv4Address::parse("198.18.1.5"), port});
  }

  xds::HeldResources held_;
  std::vector<Authorization> policies_;
  weft::v1::Workload destination_;
};

weft::v1::Match exact(const std::string& value) {
  weft::v1::Match m;
  m.set_value(value);
  return m;
}

TEST_F(L4PolicyTest, NoPoliciesAllows) { EXPECT_TRUE(decide(kCurl).allowed); }

TEST_F(L4PolicyTest, AllowWithoutRulesAllowsNothing) {
  policy("default", "allow-nothing", Authorization::ALLOW);
  EXPECT_FALSE(decide(kCurl).allowed);
}

TEST_F(L4PolicyTest, AllowByPrincipalWithoutScheme) {
  *policy("default", "allow-curl", Authorization::ALLOW).add_groups()->add_principals() = exact("cluster.local/ns/default/sa/curl");
  EXPECT_TRUE(decide(kCurl).allowed);
  EXPECT_FALSE(decide(kOther).allowed);
  EXPECT_FALSE(decide("").allowed);  // plaintext has no principal
}

TEST_F(L4PolicyTest, DenyWinsOverAllow) {
  policy("default", "allow-all", Authorization::ALLOW).add_groups();
  auto& deny = policy("default", "deny-other", Authorization::DENY);
  *deny.add_groups()->add_namespaces() = exact("other");
  EXPECT_TRUE(decide(kCurl).allowed);
  auto denied = decide(kOther);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.policy, "default/deny-other");
}

TEST_F(L4PolicyTest, PortsAndNotPorts) {
  auto& allow = policy("default", "allow-8080", Authorization::ALLOW);
  allow.add_groups()->add_ports(8080);
  EXPECT_TRUE(decide(kCurl, 8080).allowed);
  EXPECT_FALSE(decide(kCurl, 9090).allowed);
  auto& deny = policy("default", "deny-not-8080", Authorization::DENY);
  deny.add_groups()->add_not_ports(8080);
  EXPECT_TRUE(decide(kCurl, 8080).allowed);
}

TEST_F(L4PolicyTest, IpBlocksAndSingleAddresses) {
  auto& allow = policy("default", "allow-block", Authorization::ALLOW);
  allow.add_groups()->add_ip_blocks("198.18.1.0/24");
  allow.add_groups()->add_ip_blocks("198.18.9.9");
  EXPECT_TRUE(decide(kCurl, 8080, "198.18.1.77").allowed);
  EXPECT_TRUE(decide(kCurl, 8080, "198.18.9.9").allowed);
  EXPECT_FALSE(decide(kCurl, 8080, "198.18.2.1").allowed);
}

// destination.ip is the destination pod's address (198.18.1.5 here).
TEST_F(L4PolicyTest, DestinationIpBlocks) {
  auto& deny = policy("default", "deny-to-block", Authorization::DENY);
  deny.add_groups()->add_destination_ip_blocks("198.18.1.0/29");
  EXPECT_FALSE(decide(kCurl).allowed);
  deny.mutable_groups(0)->set_destination_ip_blocks(0, "198.18.1.8/29");
  EXPECT_TRUE(decide(kCurl).allowed);
  auto& allow = policy("default", "allow-not-to-pod", Authorization::ALLOW);
  allow.add_groups()->add_not_destination_ip_blocks("198.18.1.5");
  EXPECT_FALSE(decide(kCurl).allowed);
}

TEST_F(L4PolicyTest, SelectorScopesAndOtherNamespaces) {
  auto& selected = policy("default", "deny-httpbin", Authorization::DENY);
  selected.set_scope(Authorization::WORKLOAD_SELECTOR);
  (*selected.mutable_selector())["app"] = "other";
  selected.add_groups();
  EXPECT_TRUE(decide(kCurl).allowed);  // the selector does not match httpbin
  (*selected.mutable_selector())["app"] = "httpbin";
  EXPECT_FALSE(decide(kCurl).allowed);
  policies_.clear();
  policy("elsewhere", "allow-nothing", Authorization::ALLOW);
  EXPECT_TRUE(decide(kCurl).allowed);  // another namespace's policy does not apply
}

TEST_F(L4PolicyTest, GlobalPoliciesFromTheRootNamespace) {
  *policy("istio-system", "global-deny", Authorization::DENY).add_groups()->add_principals() = exact("cluster.local/ns/default/sa/curl");
  EXPECT_FALSE(decide(kCurl).allowed);
  EXPECT_TRUE(decide(kOther).allowed);
}

TEST_F(L4PolicyTest, PrefixSuffixAndPresenceMatches) {
  weft::v1::Match prefix;
  prefix.set_kind(weft::v1::Match::PREFIX);
  prefix.set_value("cluster.local/ns/default/");
  *policy("default", "allow-prefix", Authorization::ALLOW).add_groups()->add_principals() = prefix;
  EXPECT_TRUE(decide(kCurl).allowed);
  EXPECT_FALSE(decide(kOther).allowed);
  weft::v1::Match presence;
  presence.set_kind(weft::v1::Match::PRESENCE);
  policies_.clear();
  *policy("default", "deny-unauthenticated", Authorization::DENY).add_groups()->add_not_principals() = presence;
  EXPECT_FALSE(decide("").allowed);
  EXPECT_TRUE(decide(kOther).allowed);
}

TEST_F(L4PolicyTest, StrictPeerAuthenticationRefusesPlaintextOnly) {
  auto& strict = policy("default", "peerauthentication/default", Authorization::ALLOW);
  strict.set_mtls_mode(Authorization::STRICT);
  EXPECT_FALSE(decide("").allowed);
  EXPECT_TRUE(decide(kCurl).allowed);  // a PeerAuthentication is not an ALLOW policy
}

TEST_F(L4PolicyTest, PortLevelPermissiveOverridesWorkloadStrict) {
  auto& pa = policy("default", "peerauthentication/httpbin", Authorization::ALLOW);
  pa.set_scope(Authorization::WORKLOAD_SELECTOR);
  (*pa.mutable_selector())["app"] = "httpbin";
  pa.set_mtls_mode(Authorization::STRICT);
  (*pa.mutable_port_mtls())[9090] = Authorization::PERMISSIVE;
  EXPECT_FALSE(decide("", 8080).allowed);
  EXPECT_TRUE(decide("", 9090).allowed);
}

TEST_F(L4PolicyTest, WorkloadPermissiveOverridesMeshStrict) {
  policy("istio-system", "peerauthentication/mesh", Authorization::ALLOW).set_mtls_mode(Authorization::STRICT);
  EXPECT_FALSE(decide("").allowed);
  policy("default", "peerauthentication/ns", Authorization::ALLOW).set_mtls_mode(Authorization::PERMISSIVE);
  EXPECT_TRUE(decide("").allowed);
}

}  // namespace
}  // namespace weft::ztunnel
