#include "localcluster/node_agent_host.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "localcluster/netns.h"
#include "model/enrollment.h"
#include "model/json_access.h"
#include "net/inpod_capture.h"
#include "net/netns_socket.h"
#include "nodeagent/seqpacket.h"

namespace weft::localcluster {

using model::Object;
using model::stringAt;

nodeagent::WorkloadSet enrolledWorkloads(const std::vector<Object>& pods, const std::vector<Object>& namespaces,
                                         const PodSandboxes& sandboxes, const std::string& cluster, const std::string& node,
                                         const std::string& revision) {
  std::map<std::string, const Object*> byName;
  for (const auto& ns : namespaces) byName[ns.name()] = &ns;
  nodeagent::WorkloadSet out;
  for (const auto& pod : pods) {
    const auto& value = pod.value();
    if (stringAt(value, {"spec", "nodeName"}) != node) continue;
    std::string phase = stringAt(value, {"status", "phase"});
    if (phase == "Succeeded" || phase == "Failed") continue;  // terminal: ZDS deletes these too
    std::string uid = stringAt(value, {"metadata", "uid"});
    std::string ip = stringAt(value, {"status", "podIP"});
    auto sandbox = sandboxes.find(pod.key());
    // The store must already show the sandbox's address: ztunnel matches the pod to its
    // workload by it, and an address left from an earlier sandbox would be wrong.
    if (uid.empty() || ip.empty() || sandbox == sandboxes.end() || sandbox->second != ip) continue;
    auto ns = byName.find(pod.ns());
    if (!model::podEnrolled(pod, ns == byName.end() ? nullptr : ns->second, revision)) continue;
    std::string sa = stringAt(value, {"spec", "serviceAccountName"});
    nodeagent::Workload workload{{uid, pod.name(), pod.ns(), sa.empty() ? "default" : sa, ip, node},
                                 std::string(kNetnsDir) + "/" + podNetnsName(cluster, pod.ns(), pod.name())};
    out.emplace(uid, std::move(workload));
  }
  return out;
}

NodeAgentHost::NodeAgentHost(ClusterConfig cluster, ClusterPaths paths) : cluster_(std::move(cluster)), paths_(std::move(paths)) {}

NodeAgentHost::~NodeAgentHost() = default;

Status NodeAgentHost::start() {
  for (const auto& info : nodesOf(cluster_)) {
    auto node = std::make_unique<Node>();
    node->name = info.name;
    Node* raw = node.get();
    auto server = nodeagent::NodeAgentServer::listen({nodeagent::socketPathFor(paths_.nodeAgentDir(), info.name), info.name,
                                                      [this, raw](const nodeagent::Hello& hello) {
                                                        raw->revision = hello.revision;
                                                        syncNode(*raw);
                                                      }});
    if (!server) return server.error().wrap("node agent for " + info.name);
    node->server = std::move(*server);
    nodes_.push_back(std::move(node));
  }
  return {};
}

void NodeAgentHost::sync(std::vector<Object> pods, std::vector<Object> namespaces, PodSandboxes sandboxes, bool ztunnelInstalled) {
  ztunnelInstalled_ = ztunnelInstalled;
  pods_ = std::move(pods);
  namespaces_ = std::move(namespaces);
  sandboxes_ = std::move(sandboxes);
  for (auto& node : nodes_) syncNode(*node);
}

std::vector<int> NodeAgentHost::pollFds() const {
  std::vector<int> fds;
  for (const auto& node : nodes_) {
    for (int fd : node->server->pollFds()) fds.push_back(fd);
  }
  return fds;
}

void NodeAgentHost::onReadable() {
  for (auto& node : nodes_) node->server->onReadable();
}

void NodeAgentHost::syncNode(Node& node) {
  nodeagent::WorkloadSet wanted;
  if (!ztunnelInstalled_) node.revision.reset();  // a reinstalled ztunnel says hello again
  if (node.revision) wanted = enrolledWorkloads(pods_, namespaces_, sandboxes_, cluster_.name, node.name, *node.revision);
  // Leaving first: a pod that left the mesh gets its own traffic back.
  for (auto it = node.captured.begin(); it != node.captured.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    if (auto netns = net::openNetns(it->second)) {  // gone with the pod otherwise: nothing to remove
      if (auto removed = net::removeCapture(netns->get()); !removed) spdlog::error("{}: {}", it->second, removed.error().message);
    }
    spdlog::info("node agent {}: pod {} left the mesh", node.name, it->first);
    it = node.captured.erase(it);
  }
  nodeagent::WorkloadSet send;
  for (auto& [uid, workload] : wanted) {
    if (!node.captured.contains(uid)) {
      auto netns = net::openNetns(workload.netnsPath);
      Status applied = netns ? net::applyCapture(netns->get(), {bridgeAddress(cluster_), net::kInpodMark}) : Status(netns.error());
      if (!applied) {
        // Tried again on the next pass; the pod is not handed to ztunnel meanwhile.
        spdlog::error("node agent {}: pod {}/{}: {}", node.name, workload.info.ns, workload.info.name, applied.error().message);
        continue;
      }
      spdlog::info("node agent {}: pod {}/{} captured", node.name, workload.info.ns, workload.info.name);
      node.captured[uid] = workload.netnsPath;
    }
    send.emplace(uid, workload);
  }
  node.server->setWorkloads(std::move(send));
}

}  // namespace weft::localcluster
