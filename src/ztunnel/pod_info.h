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
  std::string identity;  // spiffe://<td>/ns/<ns>/sa/<sa>
};

}  // namespace weft::ztunnel
