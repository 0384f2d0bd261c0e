#pragma once
// The per-cluster runtime process: it lives in the cluster's network namespace, watches the
// cluster's store and plays the node-side of Kubernetes for every node of the cluster
// (kubelet, kube-proxy) and the controllers the local cluster needs (Deployment,
// DaemonSet, Endpoints, the scheduler). Everything it learns it writes back to the store
// (pod status, ClusterIPs, Endpoints, Nodes), so weftd reads pods exactly as it would read
// them from Kubernetes.

#include <filesystem>
#include <memory>

#include "base/result.h"
#include "localcluster/cluster_home.h"

namespace weft::localcluster {

struct RuntimeSettings {
  std::filesystem::path home;
  std::string cluster;
  std::filesystem::path programDir;  // where weft and the sample programs are
};

// Runs until SIGTERM or SIGINT. Returns the process exit code.
int runRuntime(const RuntimeSettings& settings);

}  // namespace weft::localcluster
