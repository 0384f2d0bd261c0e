#pragma once
// Builders for the discovery resources ztunnel tests feed into a ConfigSnapshot.

#include <string>

#include "xds/delta_client.h"
#include "ztunnel/config_snapshot.h"

namespace weft::ztunnel::testing {

inline weft::v1::Workload workload(const std::string& ns, const std::string& name, const std::string& address, const std::string& sa,
                                   std::map<std::string, std::string> labels = {}) {
  weft::v1::Workload w;
  w.set_uid("Kubernetes//Pod/" + ns + "/" + name);
  w.set_name(name);
  w.set_namespace_(ns);
  w.add_addresses(address);
  w.set_service_account(sa);
  w.set_trust_domain("cluster.local");
  w.set_tunnel_protocol(weft::v1::Workload::HBONE);
  w.set_healthy(true);
  for (auto& [k, v] : labels) (*w.mutable_labels())[k] = v;
  return w;
}

inline void add(xds::HeldResources& held, const weft::v1::Workload& w) {
  auto& r = held[std::string(kWorkloadType)][w.uid()];
  r.set_name(w.uid());
  *r.mutable_workload() = w;
}

inline void add(xds::HeldResources& held, const weft::v1::Service& s) {
  auto& r = held[std::string(kServiceType)][s.namespace_() + "/" + s.hostname()];
  r.set_name(s.namespace_() + "/" + s.hostname());
  *r.mutable_service() = s;
}

inline void add(xds::HeldResources& held, const weft::v1::Authorization& a) {
  auto& r = held[std::string(kAuthorizationType)][a.namespace_() + "/" + a.name()];
  r.set_name(a.namespace_() + "/" + a.name());
  *r.mutable_authorization() = a;
}

inline void add(xds::HeldResources& held, const weft::v1::MeshConfig& m) {
  auto& r = held[std::string(kMeshConfigType)]["mesh"];
  r.set_name("mesh");
  *r.mutable_mesh_config() = m;
}

}  // namespace weft::ztunnel::testing
