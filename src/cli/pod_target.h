#pragma once
// Finding the pod a kubectl-style target names: POD, pod/NAME, deploy/NAME,
// deployment/NAME, svc/NAME, service/NAME; and the cluster it runs in.

#include <optional>
#include <string>

#include "cli/store_access.h"
#include "localcluster/cluster_home.h"

namespace weft::cli {

struct ClusterContext {
  localcluster::ClusterConfig config;
  localcluster::ClusterPaths paths;
  store::LocalStore store;
};

// The selected local cluster (exec, logs and port-forward need one, not only a store).
Result<ClusterContext> openCluster(const StoreFlags& flags);

struct PodTarget {
  model::Object pod;
  std::optional<model::Object> service;  // when the target named a Service
};

// For a workload or Service, the first running pod it selects (by name), as kubectl picks.
Result<PodTarget> findPod(const store::LocalStore& store, const std::string& ns, const std::string& target);

// The pod's network namespace: its own, or the cluster's for a hostNetwork pod.
std::string podNetns(const ClusterContext& cluster, const model::Object& pod);

}  // namespace weft::cli
