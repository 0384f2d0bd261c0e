#pragma once
// One pass of the runtime: from the cached objects, bring the cluster toward them in a
// fixed order (controllers create and delete pods, the scheduler places pods, the kubelet
// runs them, the Service proxy programs VIPs and names, then every status is written
// back). Each step is level-based, so running it again after its own writes is a no-op.

#include <random>
#include <set>

#include "localcluster/host_ports.h"
#include "localcluster/kubelet.h"
#include "localcluster/node_agent_host.h"
#include "localcluster/node_ports.h"
#include "store/object_cache.h"
#include "store/local_store.h"

namespace weft::localcluster {

class Reconciler {
 public:
  Reconciler(store::LocalStore& store, KubeletSettings settings);

  // Writes the Node objects (kind's names, addresses, pod slices).
  Status registerNodes();
  // Deletes Service chains left by an earlier runtime, before the first sync.
  void adoptExistingRules();
  // Node ports are served on the host through `proxy` from then on (borrowed; without
  // one they are allocated and written back, but nothing listens).
  void exposeNodePorts(HostPortProxy& proxy) { hostPorts_ = &proxy; }
  void observe(const store::WatchEvent& event) { cache_.apply(event); }
  void reconcile();
  Kubelet& kubelet() { return kubelet_; }
  NodeAgentHost& nodeAgents() { return nodeAgents_; }

 private:
  void runWorkloadControllers();
  void schedulePods();
  void syncKubelet();
  void allocateClusterIps();
  void allocateNodePorts();
  void syncEndpoints();
  void syncServiceRules();
  void syncHostPorts();
  void syncHosts();
  void writePodStatuses();
  void writeWorkloadStatuses();
  void syncNodeAgents();

  std::optional<Ipv4Address> allocatePodAddress(const std::string& node);
  void writeField(const model::ObjectKey& key, std::string_view field, const boost::json::value& value);
  bool ownsNode(const std::string& node) const;

  store::LocalStore& store_;
  KubeletSettings settings_;
  std::vector<NodeInfo> nodes_;
  store::ObjectCache cache_;
  Kubelet kubelet_;
  NodeAgentHost nodeAgents_;
  std::mt19937_64 random_{std::random_device{}()};
  std::string appliedRules_;
  std::set<std::string> liveChains_;
  std::map<model::ObjectKey, std::string> hostsWritten_;
  std::map<model::ObjectKey, Ipv4Address> addresses_;  // pod -> address, while the kubelet runs it
  NodePortAllocation nodePorts_;
  std::set<std::string> refusedLogged_;
  HostPortProxy* hostPorts_ = nullptr;
};

}  // namespace weft::localcluster
