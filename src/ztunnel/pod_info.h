#pragma once
// A pod this ztunnel serves, as its node agent described it when handing over the pod's
// network namespace.

#include <string>

#include "base/ipv4.h"

namespace weft::ztunnel {

struct PodInfo {
  std::string uid;
  std::string name;
  std::string ns;
  std::string serviceAccount;
  Ipv4Address address;

  // spiffe://<td>/ns/<ns>/sa/<sa>: the trust domain comes from the mesh config of the
  // moment, so a pod handed over before discovery synced is named right once it has.
  std::string identity(const std::string& trustDomain) const {
    return "spiffe://" + trustDomain + "/ns/" + ns + "/sa/" + serviceAccount;
  }
};

}  // namespace weft::ztunnel
