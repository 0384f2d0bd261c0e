// The protocol over real sockets: a socketpair for ztunnel's client against hand-made
// packets, and the server and client together over a socket file.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "nodeagent/node_agent_client.h"
#include "nodeagent/node_agent_server.h"
#include "nodeagent/seqpacket.h"

namespace weft::nodeagent {
namespace {

namespace fs = std::filesystem;

const char* kOwnNetns = "/proc/self/ns/net";

net::UniqueFd openFile(const char* path) { return net::UniqueFd(open(path, O_RDONLY | O_CLOEXEC)); }

size_t openFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

AddWorkload sampleAdd(const std::string& uid = "u1") { return {uid, "pod-" + uid, "default", "default", "198.18.1.5", "node-a"}; }

struct Pair {
  net::UniqueFd agent;
  std::optional<NodeAgentClient> client;
};

// A connected pair: the agent's end, and ztunnel's client that has sent its hello.
Pair makePair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  Pair pair{net::UniqueFd(fds[0]), std::nullopt};
  auto client = NodeAgentClient::start(net::UniqueFd(fds[1]), Hello{1, "node-a", "default"});
  EXPECT_TRUE(client);
  pair.client.emplace(std::move(*client));
  auto hello = receivePacket(pair.agent.get());
  EXPECT_TRUE(hello);
  EXPECT_EQ(*decodeZtunnelMessage(hello->packet.bytes, 0), ZtunnelMessage(Hello{1, "node-a", "default"}));
  return pair;
}

TEST(NodeAgentClient, ReceivesAnAddWithItsNamespace) {
  Pair pair = makePair();
  net::UniqueFd netns = openFile(kOwnNetns);
  ASSERT_TRUE(sendPacket(pair.agent.get(), encode(AgentMessage(sampleAdd())), netns.get()));
  auto received = pair.client->receive();
  ASSERT_TRUE(received) << received.error().message;
  EXPECT_EQ(std::get<AddWorkload>(received->message), sampleAdd());
  ASSERT_TRUE(received->netns);
  EXPECT_EQ(ioctl(received->netns.get(), NS_GET_NSTYPE), CLONE_NEWNET);
  EXPECT_NE(fcntl(received->netns.get(), F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_TRUE(pair.client->ack());
  auto ack = receivePacket(pair.agent.get());
  ASSERT_TRUE(ack);
  EXPECT_EQ(*decodeZtunnelMessage(ack->packet.bytes, 0), ZtunnelMessage(Ack{}));
}

TEST(NodeAgentClient, RefusesBadPacketsAndClosesTheirDescriptors) {
  Pair pair = makePair();
  net::UniqueFd netns = openFile(kOwnNetns);
  net::UniqueFd devNull = openFile("/dev/null");
  size_t before = openFds();
  auto expectRefused = [&](std::string_view words) {
    auto received = pair.client->receive();
    ASSERT_FALSE(received);
    EXPECT_NE(received.error().message.find(words), std::string::npos) << received.error().message;
    EXPECT_FALSE(pair.client->connectionLost());
    EXPECT_EQ(openFds(), before) << "a passed descriptor leaked";
  };

  // Two descriptors on an add.
  {
    std::string bytes = encode(AgentMessage(sampleAdd()));
    int two[2] = {netns.get(), netns.get()};
    iovec iov{bytes.data(), bytes.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof two)]{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof two);
    std::memcpy(CMSG_DATA(cmsg), two, sizeof two);
    ASSERT_GT(sendmsg(pair.agent.get(), &msg, 0), 0);
    expectRefused("carries 2 file descriptors");
  }
  ASSERT_TRUE(sendPacket(pair.agent.get(), encode(AgentMessage(DelWorkload{"u1"})), netns.get()));
  expectRefused("del carries 1 file descriptors");
  ASSERT_TRUE(sendPacket(pair.agent.get(), encode(AgentMessage(sampleAdd())), devNull.get()));
  expectRefused("not a network namespace");
  ASSERT_TRUE(sendPacket(pair.agent.get(), encode(AgentMessage(sampleAdd()))));
  expectRefused("carries 0 file descriptors");
  ASSERT_TRUE(sendPacket(pair.agent.get(), "{\"type\":", netns.get()));
  expectRefused("not JSON");
  ASSERT_TRUE(sendPacket(pair.agent.get(), R"({"type":"frobnicate"})"));
  expectRefused("unknown message type");
  std::string big(kMaxMessageSize + 100, 'x');
  ASSERT_EQ(send(pair.agent.get(), big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
  expectRefused("larger than 4096");

  // After all that the connection still carries good messages.
  ASSERT_TRUE(sendPacket(pair.agent.get(), encode(AgentMessage(SnapshotSent{}))));
  auto received = pair.client->receive();
  ASSERT_TRUE(received) << received.error().message;
  EXPECT_TRUE(std::holds_alternative<SnapshotSent>(received->message));

  pair.agent.reset();
  auto closed = pair.client->receive();
  ASSERT_FALSE(closed);
  EXPECT_TRUE(pair.client->connectionLost());
}

// Drives a server from the test's thread: whatever is readable gets handled.
void serve(NodeAgentServer& server) {
  for (int round = 0; round < 3; ++round) {
    std::vector<pollfd> fds;
    for (int fd : server.pollFds()) fds.push_back({fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), 50) > 0) server.onReadable();
  }
}

// The client's next message, acked; "add u1", "del u1" or "snapshot-sent".
std::string receiveAndAck(NodeAgentClient& client, NodeAgentServer& server) {
  serve(server);
  pollfd p{client.fd(), POLLIN, 0};
  if (poll(&p, 1, 2000) != 1) return "(nothing)";
  auto received = client.receive();
  if (!received) return "error: " + received.error().message;
  EXPECT_TRUE(client.ack());
  if (const auto* add = std::get_if<AddWorkload>(&received->message)) {
    EXPECT_TRUE(received->netns) << "add without its namespace";
    return "add " + add->uid;
  }
  if (const auto* del = std::get_if<DelWorkload>(&received->message)) return "del " + del->uid;
  return "snapshot-sent";
}

class NodeAgentServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Deep enough that the socket path does not fit in sun_path.
    dir_ = fs::temp_directory_path() / ("weft-nodeagent-test-" + std::to_string(getpid())) / std::string(70, 'd') / "nodeagent";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(fs::temp_directory_path() / ("weft-nodeagent-test-" + std::to_string(getpid())), ec);
  }

  std::unique_ptr<NodeAgentServer> listen() {
    auto server = NodeAgentServer::listen({socketPathFor(dir_, "node-a"), "node-a", [this](const Hello& hello) {
                                             hellos_.push_back(hello);
                                             if (server_) server_->setWorkloads(workloadsFor_);
                                           }});
    EXPECT_TRUE(server) << server.error().message;
    return server ? std::move(*server) : nullptr;
  }

  static Workload workload(const std::string& uid) { return {sampleAdd(uid), kOwnNetns}; }

  fs::path dir_;
  NodeAgentServer* server_ = nullptr;
  WorkloadSet workloadsFor_;
  std::vector<Hello> hellos_;
};

TEST_F(NodeAgentServerTest, ReplaysOnConnectThenFollowsChanges) {
  auto server = listen();
  ASSERT_TRUE(server);
  server_ = server.get();
  ASSERT_GT(socketPathFor(dir_, "node-a").string().size(), 108u);
  workloadsFor_ = {{"u1", workload("u1")}, {"u2", workload("u2")}};

  auto client = NodeAgentClient::connect(socketPathFor(dir_, "node-a"), Hello{1, "node-a", "prod"});
  ASSERT_TRUE(client) << client.error().message;
  EXPECT_EQ(receiveAndAck(*client, *server), "add u1");
  ASSERT_EQ(hellos_.size(), 1u);
  EXPECT_EQ(hellos_[0].revision, "prod");
  EXPECT_EQ(server->connectedZtunnel()->revision, "prod");
  EXPECT_EQ(receiveAndAck(*client, *server), "add u2");
  EXPECT_EQ(receiveAndAck(*client, *server), "snapshot-sent");
  serve(*server);
  EXPECT_EQ(server->held(), (std::set<std::string>{"u1", "u2"}));

  server->setWorkloads({{"u2", workload("u2")}, {"u3", workload("u3")}});
  EXPECT_EQ(receiveAndAck(*client, *server), "del u1");
  EXPECT_EQ(receiveAndAck(*client, *server), "add u3");
  serve(*server);
  EXPECT_EQ(server->held(), (std::set<std::string>{"u2", "u3"}));

  // A workload whose namespace cannot be opened is skipped, not sent without one.
  server->setWorkloads({{"u2", workload("u2")}, {"u3", workload("u3")}, {"u4", {sampleAdd("u4"), "/var/run/netns/weft-no-such"}}});
  EXPECT_EQ(receiveAndAck(*client, *server), "(nothing)");

  // A second ztunnel (an upgrade) takes over; the first hears nothing more.
  auto connected = NodeAgentClient::connect(socketPathFor(dir_, "node-a"), Hello{1, "node-a", "prod"});
  ASSERT_TRUE(connected);
  std::optional<NodeAgentClient> second(std::move(*connected));
  workloadsFor_ = {{"u2", workload("u2")}};
  EXPECT_EQ(receiveAndAck(*second, *server), "add u2");
  EXPECT_EQ(receiveAndAck(*second, *server), "snapshot-sent");
  pollfd p{client->fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);

  second.reset();
  serve(*server);
  EXPECT_FALSE(server->connectedZtunnel());
}

TEST_F(NodeAgentServerTest, HangsUpOnAZtunnelOfAnotherNode) {
  auto server = listen();
  ASSERT_TRUE(server);
  server_ = server.get();
  auto client = NodeAgentClient::connect(socketPathFor(dir_, "node-a"), Hello{1, "node-b", "default"});
  ASSERT_TRUE(client);
  serve(*server);
  EXPECT_FALSE(server->connectedZtunnel());
  auto received = client->receive();
  EXPECT_FALSE(received);
  EXPECT_TRUE(client->connectionLost());
}

TEST_F(NodeAgentServerTest, ConnectRetriesUntilTheAgentListens) {
  auto early = NodeAgentClient::connect(socketPathFor(dir_, "node-a"), Hello{1, "node-a", "default"});
  EXPECT_FALSE(early) << "nothing listens yet";
  auto server = listen();
  ASSERT_TRUE(server);
  auto late = NodeAgentClient::connect(socketPathFor(dir_, "node-a"), Hello{1, "node-a", "default"}, std::chrono::milliseconds(500),
                                       std::chrono::milliseconds(10));
  EXPECT_TRUE(late);
}

}  // namespace
}  // namespace weft::nodeagent
