#pragma once
// Reading a node's ztunnel from the CLI: find the ztunnel pod serving a node and fetch its
// admin /config_dump. ztunnel runs in the cluster's (the nodes') network namespace and binds
// its admin port to its node's address, so the CLI enters that namespace on a thread of its
// own for the request.

#include <string>

#include <boost/json.hpp>

#include "cli/pod_target.h"

namespace weft::cli {

// The ztunnel pod on `node` (label app=ztunnel in istio-system), Running.
Result<model::Object> ztunnelOnNode(const store::LocalStore& store, const std::string& node);

// GET http://<address>:15000/config_dump inside the cluster's namespace, parsed.
Result<boost::json::value> fetchConfigDump(const ClusterContext& cluster, const model::Object& ztunnelPod);

}  // namespace weft::cli
