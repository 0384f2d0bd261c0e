#include "ztunnel/config_snapshot.h"

#include <fmt/format.h>

namespace weft::ztunnel {
namespace {

const std::map<std::string, weft::v1::Resource>* ofType(const xds::HeldResources& held, std::string_view type) {
  auto it = held.find(std::string(type));
  return it == held.end() ? nullptr : &it->second;
}

Status checkCidrs(const weft::v1::Authorization& policy) {
  for (const auto& group : policy.groups()) {
    for (const auto* list : {&group.ip_blocks(), &group.not_ip_blocks(), &group.destination_ip_blocks(), &group.not_destination_ip_blocks()}) {
      for (const auto& block : *list) {
        bool parses = block.find('/') == std::string::npos ? Ipv4Address::parse(block).ok() : Ipv4Cidr::parse(block).ok();
        if (!parses) return makeError("authorization {}/{}: ip block {:?} is not an IPv4 address or CIDR", policy.namespace_(), policy.name(), block);
      }
    }
  }
  return {};
}

}  // namespace

std::string workloadIdentity(const weft::v1::Workload& workload) {
  std::string td = workload.trust_domain().empty() ? "cluster.local" : workload.trust_domain();
  std::string sa = workload.service_account().empty() ? "default" : workload.service_account();
  return fmt::format("spiffe://{}/ns/{}/sa/{}", td, workload.namespace_(), sa);
}

uint32_t Endpoint::targetPortFor(uint32_t servicePort) const {
  for (const auto& port : ports->ports()) {
    if (port.service_port() == servicePort && port.target_port() != 0) return port.target_port();
  }
  return servicePort;
}

std::shared_ptr<const ConfigSnapshot> ConfigSnapshot::empty() {
  static const auto snapshot = std::make_shared<const ConfigSnapshot>();
  return snapshot;
}

Result<std::shared_ptr<const ConfigSnapshot>> ConfigSnapshot::build(const xds::HeldResources& held) {
  auto snapshot = std::make_shared<ConfigSnapshot>();
  if (const auto* workloads = ofType(held, kWorkloadType)) {
    for (const auto& [name, resource] : *workloads) {
      if (!resource.has_workload()) return makeError("resource {} of type {} carries no Workload", name, kWorkloadType);
      snapshot->workloads_[name] = resource.workload();
    }
  }
  for (const auto& [uid, workload] : snapshot->workloads_) {
    for (const auto& address : workload.addresses()) {
      auto parsed = Ipv4Address::parse(address);
      if (!parsed) return makeError("workload {}: address {:?} is not IPv4", uid, address);
      snapshot->workloadsByAddress_[parsed->value] = &workload;
    }
  }
  if (const auto* services = ofType(held, kServiceType)) {
    for (const auto& [name, resource] : *services) {
      if (!resource.has_service()) return makeError("resource {} of type {} carries no Service", name, kServiceType);
      const auto& service = resource.service();
      std::string key = service.namespace_() + "/" + service.hostname();
      auto& view = snapshot->services_[key];
      view.service = service;
      view.key = key;
    }
  }
  for (auto& [key, view] : snapshot->services_) {
    for (const auto& address : view.service.addresses()) {
      auto parsed = Ipv4Address::parse(address);
      if (!parsed) return makeError("service {}: address {:?} is not IPv4", key, address);
      snapshot->servicesByVip_[parsed->value] = &view;
    }
  }
  for (const auto& [uid, workload] : snapshot->workloads_) {
    for (const auto& [key, ports] : workload.services()) {
      auto it = snapshot->services_.find(key);
      if (it == snapshot->services_.end()) continue;
      it->second.endpoints.push_back({&workload, &ports});
    }
  }
  if (const auto* policies = ofType(held, kAuthorizationType)) {
    for (const auto& [name, resource] : *policies) {
      if (!resource.has_authorization()) return makeError("resource {} of type {} carries no Authorization", name, kAuthorizationType);
      if (auto ok = checkCidrs(resource.authorization()); !ok) return ok.error();
      snapshot->authorizations_.push_back(resource.authorization());
    }
  }
  if (const auto* mesh = ofType(held, kMeshConfigType)) {
    for (const auto& [name, resource] : *mesh) {
      if (resource.has_mesh_config()) snapshot->mesh_ = resource.mesh_config();
    }
  }
  return std::shared_ptr<const ConfigSnapshot>(std::move(snapshot));
}

const weft::v1::Workload* ConfigSnapshot::workloadAt(Ipv4Address address) const {
  auto it = workloadsByAddress_.find(address.value);
  return it == workloadsByAddress_.end() ? nullptr : it->second;
}

const weft::v1::Workload* ConfigSnapshot::workloadByUid(const std::string& uid) const {
  auto it = workloads_.find(uid);
  return it == workloads_.end() ? nullptr : &it->second;
}

const ServiceView* ConfigSnapshot::serviceAt(Ipv4Address vip) const {
  auto it = servicesByVip_.find(vip.value);
  return it == servicesByVip_.end() ? nullptr : it->second;
}

const ServiceView* ConfigSnapshot::serviceByKey(const std::string& key) const {
  auto it = services_.find(key);
  return it == services_.end() ? nullptr : &it->second;
}

std::vector<const weft::v1::Workload*> ConfigSnapshot::waypointWorkloads(const std::string& waypoint) const {
  std::vector<const weft::v1::Workload*> out;
  auto slash = waypoint.find('/');
  if (slash == std::string::npos) return out;
  std::string ns = waypoint.substr(0, slash), name = waypoint.substr(slash + 1);
  for (const auto& [uid, workload] : workloads_) {
    auto label = workload.labels().find("gateway.networking.k8s.io/gateway-name");
    if (workload.namespace_() == ns && label != workload.labels().end() && label->second == name) out.push_back(&workload);
  }
  return out;
}

}  // namespace weft::ztunnel
