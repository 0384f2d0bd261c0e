#pragma once
// Named network namespaces, kept where iproute2 keeps them (/run/netns/<name>), so that
// `ip netns list` and `ip netns exec` see and enter the cluster's namespaces too.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"

namespace weft::localcluster {

inline constexpr const char* kNetnsDir = "/run/netns";

Status createNetns(const std::string& name);
// Deleting a namespace that is already gone succeeds.
Status deleteNetns(const std::string& name);
bool netnsExists(const std::string& name);
std::vector<std::string> listNetns();

// Moves the calling thread into the namespace. In a single-threaded process that is the
// whole process; sockets opened afterwards belong to that namespace for their lifetime.
Status enterNetns(const std::string& name);

// Runs `task` on a short-lived thread moved into the namespace behind `netnsFd`, and
// waits for it. Sockets `task` opens stay in that namespace; the caller's stays as it was.
Status runInNetns(int netnsFd, const std::function<void()>& task);

// The namespace's inode: what /proc/<pid>/ns/net links to for processes inside it.
Result<ino_t> netnsInode(const std::string& name);
std::vector<pid_t> processesInNetns(ino_t inode);

// /etc/netns/<name>: files here are bind-mounted over /etc by `ip netns exec` (and by
// Weft when it starts a container), which is how a pod gets its own /etc/hosts.
std::string netnsEtcDir(const std::string& name);

}  // namespace weft::localcluster
