#include "proxy/config_publisher.h"

#include <gtest/gtest.h>

#include "proxy/polling_test_support.h"

#include <atomic>
#include <mutex>
#include <thread>

namespace weft::proxy {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

// A ServiceEntry's cluster as weftd sends it for resolution DNS: one listed address, one
// host name for the proxy to look up.
weft::v1::Resource dnsCluster(const std::string& hostname, bool firstOnly = false) {
  weft::v1::Resource r;
  r.set_name("outbound|80||legacy.example.com");
  auto* c = r.mutable_cluster();
  c->set_name(r.name());
  c->set_service_hostname("legacy.example.com");
  c->set_port(80);
  c->add_endpoints("198.18.0.40:8080");
  auto* dns = c->add_dns_endpoints();
  dns->set_hostname(hostname);
  dns->set_port(8080);
  c->set_dns_first_address_only(firstOnly);
  return r;
}

xds::HeldResources heldWith(weft::v1::Resource cluster, uint32_t refreshMs = 0) {
  xds::HeldResources held;
  held[kClusterType][cluster.name()] = std::move(cluster);
  if (refreshMs > 0) {
    auto& mesh = held[kMeshConfigType]["mesh"];
    mesh.set_name("mesh");
    mesh.mutable_mesh_config()->set_dns_refresh_ms(refreshMs);
  }
  return held;
}

// The snapshots published, newest last.
struct Published {
  std::mutex mutex;
  std::vector<std::shared_ptr<const ProxyConfig>> configs;
  ConfigPublisher::Publish publish() {
    return [this](std::shared_ptr<const ProxyConfig> config) {
      std::lock_guard lock(mutex);
      configs.push_back(std::move(config));
    };
  }
  std::vector<std::string> endpoints() {
    std::lock_guard lock(mutex);
    if (configs.empty()) return {};
    const auto* cluster = configs.back()->cluster("outbound|80||legacy.example.com");
    return cluster == nullptr ? std::vector<std::string>{} : std::vector<std::string>(cluster->endpoints().begin(), cluster->endpoints().end());
  }
};

TEST(ConfigPublisher, AHostNameFromTheHostsFileBecomesAnEndpointBeforeTheFirstSnapshot) {
  Published published;
  ConfigPublisher publisher({}, published.publish());
  publisher.accepted(heldWith(dnsCluster("localhost")));
  EXPECT_EQ(published.endpoints(), (std::vector<std::string>{"198.18.0.40:8080", "127.0.0.1:8080"}))
      << "the listed address first, then what the system's lookup (the hosts file) gave, at the DNS endpoint's port";
}

// The scripted lookup below stands for a DNS server whose records change.
struct ChangingDns {
  std::mutex mutex;
  std::vector<std::string> addresses{"198.18.0.50", "198.18.0.51"};
  std::atomic<int> asked{0};
  DnsNames::Lookup lookup() {
    return [this](const std::string&) {
      std::lock_guard lock(mutex);
      ++asked;
      return DnsAnswer{DnsAnswer::Outcome::kFound, addresses, ""};
    };
  }
  void set(std::vector<std::string> next) {
    std::lock_guard lock(mutex);
    addresses = std::move(next);
  }
};

TEST(ConfigPublisher, ChangedAddressesRepublishWithoutANewPush) {
  ChangingDns dns;
  Published published;
  ConfigPublisher publisher({}, published.publish(), dns.lookup());
  publisher.accepted(heldWith(dnsCluster("legacy.outside.svc.cluster.local"), /*refreshMs=*/10));
  EXPECT_EQ(published.endpoints(), (std::vector<std::string>{"198.18.0.40:8080", "198.18.0.50:8080", "198.18.0.51:8080"}));
  dns.set({"198.18.0.52"});
  ASSERT_TRUE(eventually([&] { return published.endpoints() == std::vector<std::string>{"198.18.0.40:8080", "198.18.0.52:8080"}; }))
      << "meshConfig's dnsRefreshRate (10 ms here) looks again, and the new answer is served";
}

TEST(ConfigPublisher, DnsRoundRobinUsesOnlyTheFirstAddress) {
  ChangingDns dns;
  dns.set({"198.18.0.61", "198.18.0.60"});
  Published published;
  ConfigPublisher publisher({}, published.publish(), dns.lookup());
  publisher.accepted(heldWith(dnsCluster("legacy.outside.svc.cluster.local", /*firstOnly=*/true)));
  EXPECT_EQ(published.endpoints(), (std::vector<std::string>{"198.18.0.40:8080", "198.18.0.61:8080"}));
}

TEST(ConfigPublisher, AnAddressAlreadyListedIsNotRepeated) {
  ChangingDns dns;
  dns.set({"198.18.0.40"});
  Published published;
  ConfigPublisher publisher({}, published.publish(), dns.lookup());
  publisher.accepted(heldWith(dnsCluster("legacy.outside.svc.cluster.local")));
  EXPECT_EQ(published.endpoints(), std::vector<std::string>{"198.18.0.40:8080"});
}

}  // namespace
}  // namespace weft::proxy
