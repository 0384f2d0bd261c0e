#include "localcluster/workload_controller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "localcluster/test_objects.h"
#include "model/json_access.h"

namespace weft::localcluster {
namespace {

namespace json = boost::json;
using model::stringAt;
using testing::object;
using testing::with;

const char* kDeployment = R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: httpbin, namespace: default, generation: 1}
spec:
  replicas: 2
  selector: {matchLabels: {app: httpbin}}
  template:
    metadata: {labels: {app: httpbin, version: v1}}
    spec:
      serviceAccountName: httpbin
      containers: [{name: httpbin, image: docker.io/mccutchen/go-httpbin:v2.15.0}]
)";

const char* kDaemonSet = R"(
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ztunnel, namespace: istio-system, uid: ds-uid}
spec:
  selector: {matchLabels: {app: ztunnel}}
  template:
    metadata: {labels: {app: ztunnel}}
    spec:
      hostNetwork: true
      containers: [{name: ztunnel, image: x, command: [/bin/sleep, infinity]}]
)";

std::vector<NodeInfo> twoNodes() {
  ClusterConfig config{"c", 2, *Ipv4Cidr::parse("198.18.0.0/16"), *Ipv4Cidr::parse("198.19.0.0/16"), ""};
  return nodesOf(config);
}

struct Planner {
  std::vector<model::Object> deployments, daemonSets, pods;
  int counter = 0;
  WorkloadChanges plan() {
    return planWorkloads({&deployments, &daemonSets, &pods, twoNodes()}, [this] { return fmt::format("s{:04d}", counter++); });
  }
  // Stores what the plan created, as the runtime would.
  void accept(const WorkloadChanges& changes, bool ready) {
    for (const auto& value : changes.create) {
      model::Object pod(model::findKind("v1", "Pod"), value);
      if (ready) pod = with(pod, {"status", "conditions"}, json::array{json::object{{"type", "Ready"}, {"status", "True"}}});
      pods.push_back(pod);
    }
    for (const auto& key : changes.remove) std::erase_if(pods, [&](const model::Object& p) { return p.key() == key; });
  }
};

TEST(WorkloadController, DeploymentPodsAreNamedLabelledAndSpread) {
  Planner p;
  p.deployments.push_back(object(kDeployment));
  auto changes = p.plan();
  ASSERT_EQ(changes.create.size(), 2u);
  EXPECT_TRUE(changes.remove.empty());
  std::string hash = podTemplateHash(model::at(p.deployments[0].value(), {"spec", "template"}));
  const auto& pod = changes.create[0];
  EXPECT_EQ(stringAt(pod, {"metadata", "name"}), "httpbin-" + hash + "-s0000");
  EXPECT_EQ(stringAt(pod, {"metadata", "labels", "pod-template-hash"}), hash);
  EXPECT_EQ(stringAt(pod, {"metadata", "labels", "version"}), "v1");
  EXPECT_EQ(stringAt(pod.at("metadata").at("ownerReferences").at(0), {"kind"}), "ReplicaSet");
  EXPECT_EQ(stringAt(pod.at("metadata").at("ownerReferences").at(0), {"name"}), "httpbin-" + hash);
  EXPECT_EQ(stringAt(pod, {"spec", "serviceAccountName"}), "httpbin");
  EXPECT_EQ(stringAt(pod, {"spec", "restartPolicy"}), "Always");
  // One per node.
  EXPECT_NE(stringAt(changes.create[0], {"spec", "nodeName"}), stringAt(changes.create[1], {"spec", "nodeName"}));
  // The objects are valid Pods.
  for (const auto& value : changes.create) {
    auto decoded = model::decodeYaml(json::serialize(value), "pod.json", {});
    EXPECT_TRUE(decoded.ok()) << (decoded.errors.empty() ? "" : decoded.errors[0]);
  }
}

TEST(WorkloadController, SteadyStateMakesNoChanges) {
  Planner p;
  p.deployments.push_back(object(kDeployment));
  p.accept(p.plan(), true);
  auto again = p.plan();
  EXPECT_TRUE(again.create.empty());
  EXPECT_TRUE(again.remove.empty());
}

TEST(WorkloadController, ScalesDownNotReadyFirst) {
  Planner p;
  p.deployments.push_back(object(kDeployment));
  p.accept(p.plan(), true);
  p.pods[1] = with(p.pods[1], {"status", "conditions"}, json::array{json::object{{"type", "Ready"}, {"status", "False"}}});
  p.deployments[0] = with(p.deployments[0], {"spec", "replicas"}, 1);
  auto changes = p.plan();
  ASSERT_EQ(changes.remove.size(), 1u);
  EXPECT_EQ(changes.remove[0], p.pods[1].key());
}

TEST(WorkloadController, TemplateChangeRollsWithoutAGap) {
  Planner p;
  p.deployments.push_back(object(kDeployment));
  p.accept(p.plan(), true);
  auto old = p.pods;
  p.deployments[0] = with(p.deployments[0], {"spec", "template", "metadata", "labels", "version"}, "v2");
  auto surge = p.plan();
  EXPECT_EQ(surge.create.size(), 2u);
  EXPECT_TRUE(surge.remove.empty()) << "old pods stay until the new ones are ready";
  p.accept(surge, true);
  auto cleanup = p.plan();
  EXPECT_TRUE(cleanup.create.empty());
  ASSERT_EQ(cleanup.remove.size(), 2u);
  for (const auto& pod : old) EXPECT_NE(std::find(cleanup.remove.begin(), cleanup.remove.end(), pod.key()), cleanup.remove.end());
}

TEST(WorkloadController, DaemonSetRunsOnePodPerNode) {
  Planner p;
  p.daemonSets.push_back(object(kDaemonSet));
  auto changes = p.plan();
  ASSERT_EQ(changes.create.size(), 2u);
  EXPECT_EQ(stringAt(changes.create[0], {"spec", "nodeName"}), "c-control-plane");
  EXPECT_EQ(stringAt(changes.create[1], {"spec", "nodeName"}), "c-worker");
  EXPECT_EQ(stringAt(changes.create[0], {"metadata", "name"}), "ztunnel-s0000");
  EXPECT_EQ(model::at(changes.create[0], {"spec", "hostNetwork"}), json::value(true));
  p.accept(changes, false);
  EXPECT_TRUE(p.plan().create.empty());
}

TEST(WorkloadController, DaemonSetWithMaxSurgeStartsTheNewPodBesideTheOld) {
  Planner p;
  p.daemonSets.push_back(with(object(kDaemonSet), {"spec", "updateStrategy"},
                              json::object{{"type", "RollingUpdate"}, {"rollingUpdate", json::object{{"maxSurge", 1}, {"maxUnavailable", 0}}}}));
  p.accept(p.plan(), true);
  auto old = p.pods;
  p.daemonSets[0] = with(p.daemonSets[0], {"spec", "template", "metadata", "labels", "version"}, "v2");
  auto surge = p.plan();
  EXPECT_EQ(surge.create.size(), 2u);
  EXPECT_TRUE(surge.remove.empty()) << "the old pod keeps serving its node until the new one is ready";
  p.accept(surge, false);
  EXPECT_TRUE(p.plan().remove.empty()) << "new pods not ready yet";
  for (auto& pod : p.pods) pod = with(pod, {"status", "conditions"}, json::array{json::object{{"type", "Ready"}, {"status", "True"}}});
  auto cleanup = p.plan();
  EXPECT_TRUE(cleanup.create.empty());
  ASSERT_EQ(cleanup.remove.size(), 2u);
  for (const auto& pod : old) EXPECT_NE(std::find(cleanup.remove.begin(), cleanup.remove.end(), pod.key()), cleanup.remove.end());
}

TEST(WorkloadController, DaemonSetWithoutSurgeReplacesAtOnce) {
  Planner p;
  p.daemonSets.push_back(object(kDaemonSet));
  p.accept(p.plan(), true);
  p.daemonSets[0] = with(p.daemonSets[0], {"spec", "template", "metadata", "labels", "version"}, "v2");
  auto changes = p.plan();
  EXPECT_EQ(changes.create.size(), 2u);
  EXPECT_EQ(changes.remove.size(), 2u);
}

TEST(WorkloadController, PodsOfDeletedWorkloadsAreCollected) {
  Planner p;
  p.deployments.push_back(object(kDeployment));
  p.daemonSets.push_back(object(kDaemonSet));
  p.accept(p.plan(), true);
  ASSERT_EQ(p.pods.size(), 4u);
  p.deployments.clear();
  p.daemonSets.clear();
  auto changes = p.plan();
  EXPECT_EQ(changes.remove.size(), 4u);
}

TEST(WorkloadController, NakedPodsAreLeftAlone) {
  Planner p;
  p.pods.push_back(object("apiVersion: v1\nkind: Pod\nmetadata: {name: curl, namespace: default}\n"
                          "spec: {containers: [{name: curl, image: curlimages/curl}]}\n"));
  auto changes = p.plan();
  EXPECT_TRUE(changes.create.empty());
  EXPECT_TRUE(changes.remove.empty());
}

TEST(WorkloadController, HashUsesKubernetesAlphabet) {
  json::value tmpl = json::object{{"spec", json::object{}}};
  std::string hash = podTemplateHash(tmpl);
  EXPECT_EQ(hash, podTemplateHash(tmpl));
  EXPECT_GE(hash.size(), 1u);
  EXPECT_LE(hash.size(), 10u);
  for (char c : hash) EXPECT_NE(std::string_view("bcdfghjklmnpqrstvwxz2456789").find(c), std::string_view::npos);
  std::mt19937_64 random(1);
  EXPECT_EQ(randomNameSuffix(random).size(), 5u);
}

TEST(WorkloadController, StatusCountsReadyPods) {
  Planner p;
  p.deployments.push_back(object(kDeployment));
  p.accept(p.plan(), false);
  p.pods[0] = with(p.pods[0], {"status", "conditions"}, json::array{json::object{{"type", "Ready"}, {"status", "True"}}});
  auto status = deploymentStatus(p.deployments[0], p.pods, "2026-01-01T00:00:00Z");
  EXPECT_EQ(status.at("replicas"), json::value(2));
  EXPECT_EQ(status.at("readyReplicas"), json::value(1));
  EXPECT_EQ(status.at("unavailableReplicas"), json::value(1));
}

// "<type>=<status>/<reason>" of a Deployment status's conditions.
std::vector<std::string> conditionsOf(const json::value& status) {
  std::vector<std::string> out;
  for (const auto& c : status.at("conditions").as_array()) {
    out.push_back(std::string(c.at("type").as_string()) + "=" + std::string(c.at("status").as_string()) + "/" +
                  std::string(c.at("reason").as_string()));
  }
  return out;
}

TEST(WorkloadController, AvailableOnceTheReadyPodsMeetMaxUnavailableAndTimesHold) {
  Planner p;
  p.deployments.push_back(object(kDeployment));  // 2 replicas: 25% of 2 rounds down to 0 unavailable
  p.accept(p.plan(), false);
  auto ready = [](const model::Object& pod) { return with(pod, {"status", "conditions"}, json::array{json::object{{"type", "Ready"}, {"status", "True"}}}); };
  p.pods[0] = ready(p.pods[0]);
  auto half = deploymentStatus(p.deployments[0], p.pods, "2026-01-01T00:00:00Z");
  EXPECT_THAT(conditionsOf(half), ::testing::ElementsAre("Available=False/MinimumReplicasUnavailable", "Progressing=True/ReplicaSetUpdated"));
  p.deployments[0] = with(p.deployments[0], {"status"}, half);
  p.pods[1] = ready(p.pods[1]);
  auto all = deploymentStatus(p.deployments[0], p.pods, "2026-01-01T00:01:00Z");
  EXPECT_THAT(conditionsOf(all), ::testing::ElementsAre("Available=True/MinimumReplicasAvailable", "Progressing=True/NewReplicaSetAvailable"));
  EXPECT_EQ(all.at("conditions").at(0).at("lastTransitionTime"), json::value("2026-01-01T00:01:00Z"));
  p.deployments[0] = with(p.deployments[0], {"status"}, all);
  EXPECT_EQ(deploymentStatus(p.deployments[0], p.pods, "2026-01-01T00:09:00Z"), all) << "nothing changed: nothing to write";
  // Progressing stays True through its reason change: its transition time is kept.
  EXPECT_EQ(all.at("conditions").at(1).at("lastTransitionTime"), json::value("2026-01-01T00:00:00Z"));
  EXPECT_EQ(all.at("conditions").at(1).at("lastUpdateTime"), json::value("2026-01-01T00:01:00Z"));
  // One pod not ready: enough with maxUnavailable 1 or 50% of 2, not with Recreate; with
  // maxUnavailable and maxSurge both 0, Kubernetes takes 1.
  p.pods[1] = with(p.pods[1], {"status", "conditions"}, json::array{});
  auto withStrategy = [&](const char* strategy) { return with(p.deployments[0], {"spec", "strategy"}, json::parse(strategy)); };
  auto available = [&](const char* strategy) { return conditionsOf(deploymentStatus(withStrategy(strategy), p.pods, "2026-01-01T00:10:00Z"))[0]; };
  EXPECT_EQ(available(R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}})"), "Available=True/MinimumReplicasAvailable");
  EXPECT_EQ(available(R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"50%"}})"), "Available=True/MinimumReplicasAvailable");
  EXPECT_EQ(available(R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":0}})"), "Available=True/MinimumReplicasAvailable");
  EXPECT_EQ(available(R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":1}})"), "Available=False/MinimumReplicasUnavailable");
  EXPECT_EQ(available(R"({"type":"Recreate"})"), "Available=False/MinimumReplicasUnavailable");
}

}  // namespace
}  // namespace weft::localcluster
