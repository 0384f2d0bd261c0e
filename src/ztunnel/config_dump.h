#pragma once
// ztunnel's admin view of itself (GET /config_dump on the admin port), JSON shaped after
// Istio ztunnel's: the workloads, services and policies it holds, the certificates of its
// pods (full PEM chains, never keys) and the pods it serves. `weft ztunnel-config` and
// `weft proxy-config secret` read it.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "ztunnel/config_snapshot.h"
#include "ztunnel/workload_certificate.h"

namespace weft::ztunnel {

struct ServedPod {
  std::string uid;
  std::string name;
  std::string ns;
  std::string address;
  std::string identity;
  std::string state;  // "serving", or why not
};

boost::json::object configDump(const ConfigSnapshot& config, const std::map<std::string, std::shared_ptr<const WorkloadCertificate>>& certificates,
                               const std::vector<ServedPod>& pods, const std::string& nodeName);

}  // namespace weft::ztunnel
