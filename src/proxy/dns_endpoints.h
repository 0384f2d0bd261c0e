#pragma once
// Where the config meets DNS: which host names a config's Clusters need looked up, how
// often (meshConfig.dnsRefreshRate), and a Cluster's endpoints once they are known.

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "proxy/dns_names.h"
#include "weft/v1/discovery.pb.h"
#include "xds/delta_client.h"

namespace weft::proxy {

std::set<std::string> dnsNamesOf(const xds::HeldResources& held);

// MeshConfig's dnsRefreshRate; nullopt when unset.
std::optional<std::chrono::milliseconds> dnsRefreshOf(const xds::HeldResources& held);

// Adds "address:port" for every known address of the cluster's DNS endpoints (the first
// address only for DNS_ROUND_ROBIN), after the listed ones and without repeating any. A
// name not yet known adds nothing.
void addResolvedEndpoints(weft::v1::Cluster& cluster, const ResolvedNames& resolved);

}  // namespace weft::proxy
