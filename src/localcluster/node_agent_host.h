#pragma once
// The local runtime as node agent (the part istio-cni plays on a Kubernetes node): one
// node-agent socket per node, <cluster dir>/nodeagent/<node>.sock, where that node's
// ztunnel connects. For each node it decides which pods are in the mesh, installs the
// in-pod capture rules in their namespaces, hands them to ztunnel, and takes them back
// (rules removed, del sent) when a pod stops or leaves the mesh.
//
// Which pods are in the mesh depends on the revision of the node's ztunnel (its hello):
// until a ztunnel of the node has connected, no pod of that node is captured. After
// that the revision it gave is kept, also while it is disconnected (a restart), so the
// pods stay captured and wait for it, as with istio-cni: their traffic fails closed
// rather than leaving the mesh unnoticed.
//
// Invariant: a pod is sent to ztunnel only while its capture rules are in place.

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "localcluster/cluster_config.h"
#include "localcluster/cluster_home.h"
#include "model/object.h"
#include "nodeagent/node_agent_server.h"

namespace weft::localcluster {

// Pod -> the address of the sandbox the kubelet runs for it.
using PodSandboxes = std::map<model::ObjectKey, std::string>;

// The pods of `node` ztunnel of `revision` should serve: enrolled (model::podEnrolled),
// with a running sandbox whose address the store already shows, not finished, with a uid.
nodeagent::WorkloadSet enrolledWorkloads(const std::vector<model::Object>& pods, const std::vector<model::Object>& namespaces,
                                         const PodSandboxes& sandboxes, const std::string& cluster, const std::string& node,
                                         const std::string& revision);

class NodeAgentHost {
 public:
  NodeAgentHost(ClusterConfig cluster, ClusterPaths paths);
  ~NodeAgentHost();

  // Listens on every node's socket. A failure here fails the runtime's start-up.
  Status start();
  // The current objects; re-evaluates every node. Without a ztunnel DaemonSet (the mesh
  // was uninstalled) every pod is released: its traffic flows plain again, as it does
  // when Istio's CNI agent is removed.
  void sync(std::vector<model::Object> pods, std::vector<model::Object> namespaces, PodSandboxes sandboxes, bool ztunnelInstalled = true);
  std::vector<int> pollFds() const;
  void onReadable();

 private:
  struct Node {
    std::string name;
    std::unique_ptr<nodeagent::NodeAgentServer> server;
    std::optional<std::string> revision;       // of the last ztunnel that said hello
    std::map<std::string, std::string> captured;  // uid -> netns path, rules installed
  };

  void syncNode(Node& node);

  ClusterConfig cluster_;
  ClusterPaths paths_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<model::Object> pods_;
  std::vector<model::Object> namespaces_;
  PodSandboxes sandboxes_;
  bool ztunnelInstalled_ = true;
};

}  // namespace weft::localcluster
