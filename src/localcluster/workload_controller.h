#pragma once
// The parts of kube-controller-manager and the scheduler the local cluster needs: a
// Deployment's replicas and a DaemonSet's one pod per node, named and labelled as
// Kubernetes names and labels them, placed on the least busy node. Pure: it reads the
// objects and returns what to create and delete; the runtime performs it.

#include <functional>
#include <random>
#include <vector>

#include "localcluster/cluster_config.h"
#include "model/object.h"

namespace weft::localcluster {

struct WorkloadChanges {
  std::vector<boost::json::value> create;  // Pod objects, ready for the store
  std::vector<model::ObjectKey> remove;
};

struct WorkloadInputs {
  const std::vector<model::Object>* deployments;
  const std::vector<model::Object>* daemonSets;
  const std::vector<model::Object>* pods;  // every pod in the cluster
  std::vector<NodeInfo> nodes;
};

// `randomSuffix` gives the 5-character name suffixes (injected so tests are repeatable).
WorkloadChanges planWorkloads(const WorkloadInputs& inputs, const std::function<std::string()>& randomSuffix);

// Kubernetes' pod-template-hash: FNV-32a of the template, its decimal digits spelled in
// the consonant-and-digit alphabet Kubernetes uses so a hash never spells a word.
std::string podTemplateHash(const boost::json::value& tmpl);
std::string randomNameSuffix(std::mt19937_64& random);

// The node a new pod goes to: the one holding the fewest pods (first on a tie).
std::string pickNode(const std::vector<NodeInfo>& nodes, const std::vector<model::Object>& pods,
                     const std::vector<boost::json::value>& alsoPlaced);

// Whether a pod is counted as ready (its Ready condition, as written by the kubelet).
bool podIsReady(const model::Object& pod);

// Deployment and DaemonSet status as kube-controller-manager reports it, from their pods.
// A Deployment's conditions Available and Progressing keep their lastTransitionTime from
// its stored status while they hold; `now` (RFC 3339) stamps a change.
boost::json::value deploymentStatus(const model::Object& deployment, const std::vector<model::Object>& pods, const std::string& now);
boost::json::value daemonSetStatus(const model::Object& daemonSet, const std::vector<model::Object>& pods, size_t nodeCount);

// The pods a workload owns (by controller owner reference name).
std::vector<const model::Object*> ownedPods(const model::Object& workload, const std::vector<model::Object>& pods);

}  // namespace weft::localcluster
