#include "nodeagent/agent_session.h"

#include <gtest/gtest.h>

namespace weft::nodeagent {
namespace {

Workload workload(const std::string& uid, const std::string& address) {
  return {{uid, "pod-" + uid, "default", "default", address, "node-a"}, "/var/run/netns/pod-" + uid};
}

WorkloadSet set(std::initializer_list<Workload> list) {
  WorkloadSet s;
  for (const auto& w : list) s[w.info.uid] = w;
  return s;
}

// The next message's summary: "add u1", "del u1", "snapshot-sent" or "" when none.
std::string next(AgentSession& session) {
  auto out = session.next();
  if (!out) return "";
  if (const auto* add = std::get_if<AddWorkload>(&out->message)) return "add " + add->uid;
  if (const auto* del = std::get_if<DelWorkload>(&out->message)) return "del " + del->uid;
  return "snapshot-sent";
}

void ack(AgentSession& session, const std::string& error = "") { ASSERT_TRUE(session.onMessage(Ack{error})); }

TEST(AgentSession, ReplaysThenSendsDifferences) {
  AgentSession session("node-a");
  session.setWanted(set({workload("u2", "198.18.1.3"), workload("u1", "198.18.1.2")}));
  EXPECT_EQ(next(session), "") << "nothing before the hello";
  ASSERT_TRUE(session.onMessage(Hello{1, "node-a", "default"}));
  EXPECT_EQ(session.phase(), AgentSession::Phase::kReplaying);
  EXPECT_EQ(next(session), "add u1");
  EXPECT_EQ(next(session), "") << "one message in flight";
  ack(session);
  EXPECT_EQ(next(session), "add u2");
  ack(session);
  EXPECT_EQ(next(session), "snapshot-sent");
  ack(session);
  EXPECT_EQ(session.phase(), AgentSession::Phase::kLive);
  EXPECT_EQ(next(session), "");
  EXPECT_EQ(session.held(), (std::set<std::string>{"u1", "u2"}));

  // u1 leaves, u3 arrives with the address u1 had: the del goes first.
  session.setWanted(set({workload("u2", "198.18.1.3"), workload("u3", "198.18.1.2")}));
  EXPECT_EQ(next(session), "del u1");
  ack(session);
  EXPECT_EQ(next(session), "add u3");
  ack(session);
  EXPECT_EQ(next(session), "");
  EXPECT_EQ(session.held(), (std::set<std::string>{"u2", "u3"}));
}

TEST(AgentSession, ChangesWhileWaitingAreCoalesced) {
  AgentSession session("node-a");
  ASSERT_TRUE(session.onMessage(Hello{1, "node-a", "default"}));
  EXPECT_EQ(next(session), "snapshot-sent");
  session.setWanted(set({workload("u1", "198.18.1.2")}));
  session.setWanted({});  // gone again before anything could be sent
  ack(session);
  EXPECT_EQ(next(session), "");
  EXPECT_TRUE(session.held().empty());
}

TEST(AgentSession, RefusedAddsWaitUntilTheWorkloadComesBack) {
  AgentSession session("node-a");
  ASSERT_TRUE(session.onMessage(Hello{1, "node-a", "default"}));
  EXPECT_EQ(next(session), "snapshot-sent");
  ack(session);
  session.setWanted(set({workload("u1", "198.18.1.2")}));
  EXPECT_EQ(next(session), "add u1");
  ack(session, "listeners failed");
  EXPECT_EQ(next(session), "") << "not retried in a loop";
  EXPECT_EQ(session.refused().at("u1"), "listeners failed");
  session.setWanted({});
  session.setWanted(set({workload("u1", "198.18.1.2")}));
  EXPECT_EQ(next(session), "add u1");
  session.fail("namespace gone");
  EXPECT_EQ(next(session), "");
  EXPECT_TRUE(session.held().empty());
}

TEST(AgentSession, RefusesProtocolViolations) {
  AgentSession session("node-a");
  EXPECT_FALSE(session.onMessage(Ack{}));
  EXPECT_FALSE(session.onMessage(Hello{1, "node-b", "default"}));
  ASSERT_TRUE(session.onMessage(Hello{1, "node-a", "default"}));
  EXPECT_FALSE(session.onMessage(Hello{1, "node-a", "default"}));
}

}  // namespace
}  // namespace weft::nodeagent
