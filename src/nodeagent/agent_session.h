#pragma once
// The node agent's side of one ztunnel connection, without I/O: messages from ztunnel
// and the wanted set of workloads go in, the next message to send comes out.
//
// Invariants:
//   - nothing is sent before ztunnel's hello, and at most one message waits for an ack;
//   - after the hello every wanted workload is replayed as an add, then snapshot-sent;
//     afterwards only differences are sent, deletions first (a new pod may reuse the
//     address of one that left);
//   - the wanted set is level-based: a pod added and removed again before its add went
//     out is never sent at all;
//   - an add ztunnel refused (or whose namespace could not be opened) is not retried
//     until the workload leaves the wanted set and comes back, or ztunnel reconnects.

#include <map>
#include <optional>
#include <set>
#include <string>

#include "nodeagent/messages.h"

namespace weft::nodeagent {

// A workload the agent wants ztunnel to serve, and where its network namespace is.
struct Workload {
  AddWorkload info;
  std::string netnsPath;  // /var/run/netns/<name>, opened only when the add is sent
  bool operator==(const Workload&) const = default;
};
using WorkloadSet = std::map<std::string, Workload>;  // by uid

struct Outgoing {
  AgentMessage message;
  std::string netnsPath;  // for an add
};

class AgentSession {
 public:
  enum class Phase { kAwaitingHello, kReplaying, kLive };

  explicit AgentSession(std::string node) : node_(std::move(node)) {}

  // A message from ztunnel. An error means the connection is unusable (close it).
  Status onMessage(const ZtunnelMessage& message);
  void setWanted(WorkloadSet wanted);
  // The message to send now, if any; it is then in flight until its ack (or fail()).
  std::optional<Outgoing> next();
  // The message in flight could not be sent (its namespace is gone): as if refused.
  void fail(const std::string& reason);

  Phase phase() const { return phase_; }
  const std::optional<Hello>& hello() const { return hello_; }
  // What ztunnel acknowledged holding.
  const std::set<std::string>& held() const { return held_; }
  // Adds refused, by uid, with ztunnel's (or our) reason.
  const std::map<std::string, std::string>& refused() const { return refused_; }

 private:
  void settle(const std::string& error);

  std::string node_;
  Phase phase_ = Phase::kAwaitingHello;
  std::optional<Hello> hello_;
  WorkloadSet wanted_;
  std::optional<AgentMessage> inFlight_;
  std::set<std::string> replayed_;  // adds tried during the replay
  std::set<std::string> held_;
  std::map<std::string, std::string> refused_;
};

}  // namespace weft::nodeagent
