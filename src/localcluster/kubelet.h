#pragma once
// kubelet for the local cluster: turns a scheduled Pod into a sandbox (network namespace,
// address, hosts file) and processes, restarts them with kubelet's back-off, checks
// readiness, and reports the status Kubernetes would report. It owns no store access:
// the runtime feeds it pods and writes back what status() says.

#include <sys/types.h>

#include <boost/json/value.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>

#include "base/clock.h"
#include "base/ipv4.h"
#include "localcluster/cluster_home.h"
#include "model/object.h"

namespace weft::localcluster {

// Reads a key of a ConfigMap or Secret (decoded) for env valueFrom; nullopt when absent.
using EnvSourceLookup =
    std::function<std::optional<std::string>(const std::string& kind, const std::string& ns, const std::string& name, const std::string& key)>;

struct KubeletSettings {
  ClusterConfig cluster;
  ClusterPaths paths;
  std::filesystem::path programDir;  // where the sample programs are
  Clock clock = systemClock();
};

class Kubelet {
 public:
  explicit Kubelet(KubeletSettings settings);
  ~Kubelet();

  // Creates the pod's sandbox and containers on first sight; afterwards a no-op (a pod's
  // spec does not change in place). `address` is the pod's reserved IP.
  void syncPod(const model::Object& pod, Ipv4Address address, const EnvSourceLookup& lookup);
  // The pod is gone from the store: its processes get SIGTERM, then SIGKILL after the
  // grace period, and its sandbox is removed.
  void stopPod(const model::ObjectKey& key);
  // A child exited (from waitpid).
  void processExited(pid_t pid, int waitStatus);
  // Starts containers whose back-off ended, checks readiness, finishes terminations.
  // Returns true when a pod's status may have changed.
  bool tick();
  // When tick() next has work (a back-off ending, a readiness check, a kill deadline).
  std::optional<SystemTime> nextWake() const;

  bool knows(const model::ObjectKey& key) const { return pods_.contains(key); }
  std::vector<model::ObjectKey> pods() const;
  // The status the store should show; nullopt for a pod this kubelet does not run.
  std::optional<boost::json::value> status(const model::ObjectKey& key) const;
  // Rewrites the pod's hosts file in place (bind mounts follow the inode, not the name).
  void updateHosts(const model::ObjectKey& key, const std::string& contents);
  std::optional<std::string> podAddress(const model::ObjectKey& key) const;
  // Stops every pod now (SIGKILL) and removes their sandboxes: runtime shutdown in tests.
  void killAll();

  struct Pod;

 private:
  void startContainer(Pod& pod, size_t index);
  void finishTermination(Pod& pod);
  bool checkReadiness(Pod& pod);

  KubeletSettings settings_;
  std::map<model::ObjectKey, std::unique_ptr<Pod>> pods_;
  std::map<pid_t, std::pair<model::ObjectKey, size_t>> byPid_;
};

}  // namespace weft::localcluster
