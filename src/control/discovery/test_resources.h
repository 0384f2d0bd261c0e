#pragma once
// Resources for the discovery tests: small, readable, and different whenever their
// arguments are.

#include <string>

#include "weft/v1/discovery.pb.h"

namespace weft::control::discovery::testing {

inline weft::v1::Resource workload(const std::string& name, const std::string& address,
                                   const std::string& node = "worker") {
  weft::v1::Resource resource;
  resource.set_name("default/" + name);
  auto* workload = resource.mutable_workload();
  workload->set_uid("cluster/core/Pod/default/" + name);
  workload->set_name(name);
  workload->set_namespace_("default");
  workload->add_addresses(address);
  workload->set_node(node);
  workload->set_service_account(name);
  workload->set_tunnel_protocol(weft::v1::Workload::HBONE);
  workload->set_healthy(true);
  (*workload->mutable_labels())["app"] = name;
  return resource;
}

inline weft::v1::Resource service(const std::string& name, const std::string& address) {
  weft::v1::Resource resource;
  resource.set_name("default/" + name + ".default.svc.cluster.local");
  auto* service = resource.mutable_service();
  service->set_name(name);
  service->set_namespace_("default");
  service->set_hostname(name + ".default.svc.cluster.local");
  service->add_addresses(address);
  auto* port = service->add_ports();
  port->set_name("http");
  port->set_port(8000);
  port->set_target_port(8080);
  port->set_protocol("HTTP");
  return resource;
}

}  // namespace weft::control::discovery::testing
