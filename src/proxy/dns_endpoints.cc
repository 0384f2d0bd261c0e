#include "proxy/dns_endpoints.h"

#include <fmt/format.h>

#include <algorithm>

#include "proxy/proxy_config.h"

namespace weft::proxy {

namespace {

template <typename Visit>
void forEachResource(const xds::HeldResources& held, const std::string& type, Visit visit) {
  auto found = held.find(type);
  if (found == held.end()) return;
  for (const auto& [name, resource] : found->second) visit(resource);
}

}  // namespace

std::set<std::string> dnsNamesOf(const xds::HeldResources& held) {
  std::set<std::string> names;
  forEachResource(held, kClusterType, [&](const weft::v1::Resource& resource) {
    for (const auto& endpoint : resource.cluster().dns_endpoints()) names.insert(endpoint.hostname());
  });
  return names;
}

std::optional<std::chrono::milliseconds> dnsRefreshOf(const xds::HeldResources& held) {
  std::optional<std::chrono::milliseconds> refresh;
  forEachResource(held, kMeshConfigType, [&](const weft::v1::Resource& resource) {
    if (resource.mesh_config().dns_refresh_ms() > 0) refresh = std::chrono::milliseconds(resource.mesh_config().dns_refresh_ms());
  });
  return refresh;
}

void addResolvedEndpoints(weft::v1::Cluster& cluster, const ResolvedNames& resolved) {
  for (const auto& dns : cluster.dns_endpoints()) {
    auto found = resolved.find(dns.hostname());
    if (found == resolved.end()) continue;
    const DnsAddresses& known = found->second;
    auto add = [&](const std::string& address) {
      std::string endpoint = fmt::format("{}:{}", address, dns.port());
      if (std::find(cluster.endpoints().begin(), cluster.endpoints().end(), endpoint) == cluster.endpoints().end()) {
        cluster.add_endpoints(std::move(endpoint));
      }
    };
    if (cluster.dns_first_address_only()) {
      if (!known.first.empty()) add(known.first);
    } else {
      for (const auto& address : known.sorted) add(address);
    }
  }
}

}  // namespace weft::proxy
