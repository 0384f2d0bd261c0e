#pragma once
// Making and removing whole clusters: what `weft cluster create|delete|list` do.

#include <functional>
#include <string>

#include "localcluster/cluster_home.h"

namespace weft::localcluster {

// Progress lines for the user, kind-style.
using Progress = std::function<void(const std::string&)>;

// Checks everything first (root, tools, name, ranges), then makes the cluster's record,
// network and store, starts its runtime from `weftBinary` and waits until it is ready.
// On any failure everything made so far is removed again.
Status createCluster(const std::filesystem::path& home, const ClusterConfig& config, const std::filesystem::path& weftBinary,
                     const Progress& progress);

// Stops the runtime and every process in the cluster's namespaces, deletes those
// namespaces (their veths, bridge and iptables rules go with them), /etc/netns entries
// and the state directory. Idempotent, and works after a runtime that crashed.
Status deleteCluster(const std::filesystem::path& home, const std::string& name, const Progress& progress);

// The runtime's pid when it is running, else 0.
pid_t runningRuntime(const std::filesystem::path& home, const std::string& name);

Status requireRoot(std::string_view what);

}  // namespace weft::localcluster
