#pragma once
// What ztunnel knows of the mesh at one moment, built from the resources discovery
// accepted: workloads by address, services by VIP and hostname, each service's endpoints,
// L4 policies and the mesh settings. Immutable once built; a new one replaces it by pointer
// swap (ConfigHolder) and a connection keeps the one it started with.

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/ipv4.h"
#include "base/result.h"
#include "weft/v1/discovery.pb.h"
#include "xds/delta_client.h"

namespace weft::ztunnel {

inline constexpr std::string_view kWorkloadType = "weft.v1.Workload";
inline constexpr std::string_view kServiceType = "weft.v1.Service";
inline constexpr std::string_view kAuthorizationType = "weft.v1.Authorization";
inline constexpr std::string_view kMeshConfigType = "weft.v1.MeshConfig";

struct Endpoint {
  const weft::v1::Workload* workload;
  const weft::v1::PortList* ports;  // this workload's service port -> target port pairs

  // The port the workload listens on for `servicePort`; the service port itself when the
  // service does not map it (as kube-proxy does for an unnamed targetPort).
  uint32_t targetPortFor(uint32_t servicePort) const;
};

struct ServiceView {
  weft::v1::Service service;
  std::string key;  // "<ns>/<hostname>", as Workload.services names it
  std::vector<Endpoint> endpoints;  // every backing workload, ready or not
};

class ConfigSnapshot {
 public:
  ConfigSnapshot() = default;
  // Indexes point into the snapshot's own maps: it is never copied.
  ConfigSnapshot(const ConfigSnapshot&) = delete;
  ConfigSnapshot& operator=(const ConfigSnapshot&) = delete;

  // Refuses what ztunnel could not act on (an address that is not IPv4, a CIDR that does
  // not parse), naming the resource, so discovery NACKs it.
  static Result<std::shared_ptr<const ConfigSnapshot>> build(const xds::HeldResources& held);
  static std::shared_ptr<const ConfigSnapshot> empty();

  const weft::v1::Workload* workloadAt(Ipv4Address address) const;
  const weft::v1::Workload* workloadByUid(const std::string& uid) const;
  const ServiceView* serviceAt(Ipv4Address vip) const;
  const ServiceView* serviceByKey(const std::string& key) const;
  // Workloads named by a waypoint reference "<ns>/<name>": pods of that Gateway.
  std::vector<const weft::v1::Workload*> waypointWorkloads(const std::string& waypoint) const;

  const std::vector<weft::v1::Authorization>& authorizations() const { return authorizations_; }
  const weft::v1::MeshConfig& mesh() const { return mesh_; }
  std::string trustDomain() const { return mesh_.trust_domain().empty() ? "cluster.local" : mesh_.trust_domain(); }
  bool registryOnly() const { return mesh_.outbound_traffic_policy() == "REGISTRY_ONLY"; }

  const std::map<std::string, weft::v1::Workload>& workloads() const { return workloads_; }
  const std::map<std::string, ServiceView>& services() const { return services_; }

 private:
  std::map<std::string, weft::v1::Workload> workloads_;  // by uid
  std::map<uint32_t, const weft::v1::Workload*> workloadsByAddress_;
  std::map<std::string, ServiceView> services_;  // by "<ns>/<hostname>"
  std::map<uint32_t, const ServiceView*> servicesByVip_;
  std::vector<weft::v1::Authorization> authorizations_;
  weft::v1::MeshConfig mesh_;
};

// The current snapshot, swapped whole; readers on any thread take a reference that stays
// valid for as long as they hold it.
class ConfigHolder {
 public:
  ConfigHolder() : current_(ConfigSnapshot::empty()) {}
  std::shared_ptr<const ConfigSnapshot> get() const { return current_.load(); }
  void set(std::shared_ptr<const ConfigSnapshot> snapshot) { current_.store(std::move(snapshot)); }

 private:
  std::atomic<std::shared_ptr<const ConfigSnapshot>> current_;
};

// The SPIFFE identity a workload's certificate carries.
std::string workloadIdentity(const weft::v1::Workload& workload);

}  // namespace weft::ztunnel
