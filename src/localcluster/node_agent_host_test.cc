#include "localcluster/node_agent_host.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <filesystem>

#include <boost/json.hpp>

#include "base/subprocess.h"
#include "localcluster/test_objects.h"
#include "nodeagent/node_agent_client.h"
#include "nodeagent/seqpacket.h"
#include "model/json_access.h"

namespace weft::localcluster {
namespace {

using testing::object;
using testing::with;

model::Object ns(const std::string& name, const std::string& labels) {
  return object("apiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + ", labels: {" + labels + "}}\n");
}

// A pod on `node` with a sandbox at `ip`, shown Running by the store.
model::Object pod(const std::string& name, const std::string& nsName, const std::string& node, const std::string& ip,
                  const std::string& extra = "") {
  auto o = object("apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: " + nsName + ", uid: uid-" + name +
                  "}\nspec: {nodeName: " + node + ", serviceAccountName: sa-" + name + extra +
                  ", containers: [{name: app, image: curlimages/curl}]}\n");
  o = with(o, {"status", "phase"}, "Running");
  return with(o, {"status", "podIP"}, boost::json::value(ip));
}

std::vector<std::string> uids(const nodeagent::WorkloadSet& set) {
  std::vector<std::string> out;
  for (const auto& [uid, w] : set) out.push_back(uid);
  return out;
}

TEST(EnrolledWorkloads, PicksTheEnrolledPodsOfTheNodeWithASandbox) {
  std::vector<model::Object> namespaces{ns("mesh", "istio.io/dataplane-mode: ambient"), ns("plain", "team: a"),
                                        ns("rev", "istio.io/rev: prod")};
  std::vector<model::Object> pods{
      pod("a", "mesh", "n1", "198.18.1.2"),
      pod("other-node", "mesh", "n2", "198.18.2.2"),
      pod("plain", "plain", "n1", "198.18.1.3"),
      pod("opted-in", "plain", "n1", "198.18.1.4"),
      pod("revisioned", "rev", "n1", "198.18.1.5"),
      pod("no-sandbox", "mesh", "n1", "198.18.1.6"),
      pod("stale-ip", "mesh", "n1", "198.18.1.7"),
      pod("no-ip", "mesh", "n1", ""),
      with(pod("done", "mesh", "n1", "198.18.1.9"), {"status", "phase"}, "Succeeded"),
      with(pod("opted-out", "mesh", "n1", "198.18.1.10"), {"metadata", "labels"},
           boost::json::object{{"istio.io/dataplane-mode", "none"}}),
      with(pod("host", "mesh", "n1", "198.18.0.2"), {"spec", "hostNetwork"}, true),
  };
  pods[3] = with(pods[3], {"metadata", "labels"}, boost::json::object{{"istio.io/dataplane-mode", "ambient"}});
  PodSandboxes sandboxes;
  for (const auto& p : pods) {
    if (p.name() == "no-sandbox") continue;
    std::string ip = model::stringAt(p.value(), {"status", "podIP"});
    sandboxes[p.key()] = p.name() == "stale-ip" ? "198.18.1.77" : ip;
  }

  auto set = enrolledWorkloads(pods, namespaces, sandboxes, "c1", "n1", "default");
  EXPECT_EQ(uids(set), (std::vector<std::string>{"uid-a", "uid-opted-in"}));
  const auto& a = set.at("uid-a");
  EXPECT_EQ(a.info, (nodeagent::AddWorkload{"uid-a", "a", "mesh", "sa-a", "198.18.1.2", "n1"}));
  EXPECT_EQ(a.netnsPath, "/run/netns/weft-c1.mesh.a");

  EXPECT_EQ(uids(enrolledWorkloads(pods, namespaces, sandboxes, "c1", "n1", "prod")),
            (std::vector<std::string>{"uid-a", "uid-opted-in", "uid-revisioned"}));
  EXPECT_EQ(uids(enrolledWorkloads(pods, namespaces, sandboxes, "c1", "n2", "default")), (std::vector<std::string>{"uid-other-node"}));

  // The namespace label goes away: its pods leave.
  namespaces[0] = ns("mesh", "team: b");
  EXPECT_EQ(uids(enrolledWorkloads(pods, namespaces, sandboxes, "c1", "n1", "default")), (std::vector<std::string>{"uid-opted-in"}));
}

// The whole path on one node, in a real pod namespace: ztunnel says hello, the pod is
// captured and sent; its namespace leaves the mesh, the rules go and a del follows.
TEST(NodeAgentHost, CapturesAndReleasesPods) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, iptables)";
  ClusterConfig config{"nah" + std::to_string(getpid()), 1, Ipv4Cidr::parse("198.18.0.0/16").value(),
                       Ipv4Cidr::parse("198.19.0.0/16").value(), ""};
  std::string node = nodesOf(config).at(0).name;
  std::string netns = podNetnsName(config.name, "mesh", "a");
  struct Cleanup {
    std::string netns;
    std::filesystem::path dir;
    ~Cleanup() {
      (void)runCommand({"ip", "netns", "delete", netns});
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{netns, std::filesystem::temp_directory_path() / ("weft-nah-" + std::to_string(getpid()))};
  ASSERT_TRUE(runChecked({"ip", "netns", "add", netns}));
  auto iptablesSave = [&] { return runCommand({"ip", "netns", "exec", netns, "iptables-save"})->output; };

  NodeAgentHost host(config, ClusterPaths{cleanup.dir});
  ASSERT_TRUE(host.start());
  std::vector<model::Object> namespaces{ns("mesh", "istio.io/dataplane-mode: ambient")};
  std::vector<model::Object> pods{pod("a", "mesh", node, "198.18.1.2")};
  PodSandboxes sandboxes{{pods[0].key(), "198.18.1.2"}};
  host.sync(pods, namespaces, sandboxes);
  EXPECT_EQ(iptablesSave().find("ISTIO"), std::string::npos) << "captured before any ztunnel said hello";

  auto serve = [&] {
    for (int i = 0; i < 3; ++i) {
      std::vector<pollfd> fds;
      for (int fd : host.pollFds()) fds.push_back({fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 50) > 0) host.onReadable();
    }
  };
  auto client = nodeagent::NodeAgentClient::connect(nodeagent::socketPathFor(ClusterPaths{cleanup.dir}.nodeAgentDir(), node),
                                                    {1, node, "default"});
  ASSERT_TRUE(client) << client.error().message;
  serve();
  auto add = client->receive();
  ASSERT_TRUE(add) << add.error().message;
  EXPECT_EQ(std::get<nodeagent::AddWorkload>(add->message).uid, "uid-a");
  EXPECT_TRUE(add->netns);
  ASSERT_TRUE(client->ack());
  std::string saved = iptablesSave();
  EXPECT_NE(saved.find("-A ISTIO_PRERT -s 198.18.0.1/32 -p tcp -m tcp -j ACCEPT"), std::string::npos) << saved;
  serve();
  auto snapshot = client->receive();
  ASSERT_TRUE(snapshot);
  EXPECT_TRUE(std::holds_alternative<nodeagent::SnapshotSent>(snapshot->message));
  ASSERT_TRUE(client->ack());
  serve();

  namespaces[0] = ns("mesh", "team: a");
  host.sync(pods, namespaces, sandboxes);
  EXPECT_EQ(iptablesSave().find("ISTIO"), std::string::npos);
  auto del = client->receive();
  ASSERT_TRUE(del) << del.error().message;
  EXPECT_EQ(std::get<nodeagent::DelWorkload>(del->message).uid, "uid-a");
  ASSERT_TRUE(client->ack());
  serve();
}

}  // namespace
}  // namespace weft::localcluster
