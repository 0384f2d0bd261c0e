#pragma once
// Where local clusters keep their state, and which one a command talks to.
//
//   <home>/current-cluster              the name `weft` uses when none is given
//   <home>/clusters/<name>/cluster.json the cluster's record (ClusterConfig)
//   <home>/clusters/<name>/store/       its object store
//   <home>/clusters/<name>/pods/        per pod, <ns>_<pod>_<uid>/: its hosts file and
//                                       container logs, <container>/<restart count>.log
//   <home>/clusters/<name>/runtime.*    the runtime's pid, log and ready marker
//   <home>/clusters/<name>/nodeagent/   <node>.sock per node: the runtime's node-agent
//                                       sockets, where each node's ztunnel connects
//
// <home> is $WEFT_HOME, else ~/.weft. Network namespaces are kernel-wide, so their names
// carry the cluster name: weft-<name> for the cluster, weft-<name>.<ns>.<pod> for pods.

#include <filesystem>
#include <string>
#include <vector>

#include "localcluster/cluster_config.h"

namespace weft::localcluster {

std::filesystem::path weftHome();

struct ClusterPaths {
  std::filesystem::path root;

  std::filesystem::path config() const { return root / "cluster.json"; }
  std::filesystem::path store() const { return root / "store"; }
  std::filesystem::path pods() const { return root / "pods"; }
  std::filesystem::path runtimePid() const { return root / "runtime.pid"; }
  std::filesystem::path runtimeLog() const { return root / "runtime.log"; }
  std::filesystem::path runtimeReady() const { return root / "runtime.ready"; }
  // WEFT_NODE_AGENT_DIR of the node's ztunnel; the socket is <dir>/<node>.sock.
  std::filesystem::path nodeAgentDir() const { return root / "nodeagent"; }
  std::filesystem::path podDir(const std::string& ns, const std::string& pod, const std::string& uid) const {
    return pods() / (ns + "_" + pod + "_" + uid);
  }
};

ClusterPaths clusterPaths(const std::filesystem::path& home, const std::string& name);

std::string clusterNetnsName(const std::string& cluster);
// Readable when it fits; long names fall back to a hash so the file name stays short.
std::string podNetnsName(const std::string& cluster, const std::string& ns, const std::string& pod);
// True for the cluster's own namespace and every pod namespace of the cluster.
bool netnsBelongsTo(const std::string& netns, const std::string& cluster);

Result<std::vector<ClusterConfig>> listClusters(const std::filesystem::path& home);
Result<ClusterConfig> loadCluster(const std::filesystem::path& home, const std::string& name);

std::string currentCluster(const std::filesystem::path& home);
Status setCurrentCluster(const std::filesystem::path& home, const std::string& name);

// The cluster a command means: the flag, else $WEFT_CLUSTER, else the current cluster.
// Empty when there is none of these.
std::string selectedClusterName(const std::filesystem::path& home, const std::string& flag);

}  // namespace weft::localcluster
