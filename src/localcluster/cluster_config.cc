#include "localcluster/cluster_config.h"

#include <boost/json.hpp>

#include "base/k8s_names.h"

namespace weft::localcluster {

namespace json = boost::json;

std::string ClusterConfig::toJson() const {
  json::object o;
  o["name"] = name;
  o["nodes"] = nodes;
  o["podCidr"] = podCidr.str();
  o["serviceCidr"] = serviceCidr.str();
  o["created"] = created;
  return json::serialize(o) + "\n";
}

Result<ClusterConfig> ClusterConfig::fromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return makeError("not a cluster record (invalid JSON)");
  const auto& o = v.get_object();
  auto str = [&](std::string_view key) -> std::string {
    const auto* field = o.if_contains(key);
    return field && field->is_string() ? std::string(field->get_string()) : std::string();
  };
  ClusterConfig config;
  config.name = str("name");
  config.created = str("created");
  const auto* nodes = o.if_contains("nodes");
  if (nodes == nullptr || !nodes->is_int64()) return makeError("cluster record has no node count");
  config.nodes = static_cast<int>(nodes->get_int64());
  auto pods = Ipv4Cidr::parse(str("podCidr"));
  if (!pods) return pods.error().wrap("podCidr");
  auto services = Ipv4Cidr::parse(str("serviceCidr"));
  if (!services) return services.error().wrap("serviceCidr");
  config.podCidr = *pods;
  config.serviceCidr = *services;
  if (config.name.empty()) return makeError("cluster record has no name");
  return config;
}

std::vector<NodeInfo> nodesOf(const ClusterConfig& config) {
  std::vector<NodeInfo> nodes;
  for (int i = 0; i < config.nodes; ++i) {
    std::string suffix = i == 0 ? "control-plane" : i == 1 ? "worker" : fmt::format("worker{}", i);
    nodes.push_back(NodeInfo{config.name + "-" + suffix, config.podCidr.at(2 + static_cast<uint64_t>(i)),
                             config.podCidr.subBlock(kNodeSlicePrefix, static_cast<uint64_t>(i) + 1)});
  }
  return nodes;
}

Status checkNewCluster(const ClusterConfig& config, const std::vector<ClusterConfig>& others) {
  if (auto problem = checkDns1123Label(config.name)) return makeError("invalid cluster name \"{}\": {}", config.name, *problem);
  if (config.name.size() > kMaxNameLength) {
    return makeError("invalid cluster name \"{}\": at most {} characters", config.name, kMaxNameLength);
  }
  if (config.nodes < 1 || config.nodes > kMaxNodes) return makeError("--nodes must be between 1 and {}", kMaxNodes);
  auto space = *Ipv4Cidr::parse(kClusterAddressSpace);
  for (const auto& [flag, range] : {std::pair{"--pod-cidr", config.podCidr}, std::pair{"--service-cidr", config.serviceCidr}}) {
    if (!space.contains(range)) {
      return makeError("{} {} is outside {}: local clusters use only that block, which is never routed", flag, range.str(),
                       kClusterAddressSpace);
    }
  }
  // One /24 for the bridge and node addresses, then one per node.
  uint64_t slices = config.podCidr.prefix > kNodeSlicePrefix ? 0 : uint64_t{1} << (kNodeSlicePrefix - config.podCidr.prefix);
  if (slices < static_cast<uint64_t>(config.nodes) + 1) {
    return makeError("--pod-cidr {} is too small for {} nodes: it needs {} blocks of /{} (one per node and one for the bridge)",
                     config.podCidr.str(), config.nodes, config.nodes + 1, kNodeSlicePrefix);
  }
  if (config.serviceCidr.prefix > 28) return makeError("--service-cidr {} is too small: /28 at least", config.serviceCidr.str());
  if (config.podCidr.overlaps(config.serviceCidr)) {
    return makeError("--pod-cidr {} overlaps --service-cidr {}", config.podCidr.str(), config.serviceCidr.str());
  }
  for (const auto& other : others) {
    for (const auto& mine : {config.podCidr, config.serviceCidr}) {
      for (const auto& theirs : {other.podCidr, other.serviceCidr}) {
        if (mine.overlaps(theirs)) {
          return makeError("{} overlaps {} of cluster \"{}\"; give this cluster other ranges with --pod-cidr and --service-cidr",
                           mine.str(), theirs.str(), other.name);
        }
      }
    }
  }
  return {};
}

}  // namespace weft::localcluster
