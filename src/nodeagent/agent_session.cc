#include "nodeagent/agent_session.h"

namespace weft::nodeagent {

Status AgentSession::onMessage(const ZtunnelMessage& message) {
  if (const auto* hello = std::get_if<Hello>(&message)) {
    if (phase_ != Phase::kAwaitingHello) return makeError("a second hello on one connection");
    if (hello->node != node_) return makeError("ztunnel of node \"{}\" connected to the node agent of \"{}\"", hello->node, node_);
    hello_ = *hello;
    phase_ = Phase::kReplaying;
    return {};
  }
  const auto& ack = std::get<Ack>(message);
  if (!inFlight_) return makeError("an ack with nothing waiting for one");
  settle(ack.error);
  return {};
}

void AgentSession::fail(const std::string& reason) {
  if (inFlight_) settle(reason);
}

void AgentSession::settle(const std::string& error) {
  AgentMessage done = std::move(*inFlight_);
  inFlight_.reset();
  if (const auto* add = std::get_if<AddWorkload>(&done)) {
    if (error.empty()) {
      held_.insert(add->uid);
    } else {
      refused_[add->uid] = error;
    }
  } else if (const auto* del = std::get_if<DelWorkload>(&done)) {
    held_.erase(del->uid);  // refused or not, there is nothing more to ask of ztunnel
  } else {
    phase_ = Phase::kLive;
  }
}

void AgentSession::setWanted(WorkloadSet wanted) {
  wanted_ = std::move(wanted);
  for (auto it = refused_.begin(); it != refused_.end();) {
    it = wanted_.contains(it->first) ? std::next(it) : refused_.erase(it);
  }
}

std::optional<Outgoing> AgentSession::next() {
  if (phase_ == Phase::kAwaitingHello || inFlight_) return std::nullopt;
  if (phase_ == Phase::kReplaying) {
    for (const auto& [uid, workload] : wanted_) {
      if (replayed_.insert(uid).second) {
        inFlight_ = workload.info;
        return Outgoing{workload.info, workload.netnsPath};
      }
    }
    inFlight_ = SnapshotSent{};
    return Outgoing{SnapshotSent{}, {}};
  }
  for (const auto& uid : held_) {
    if (!wanted_.contains(uid)) {
      inFlight_ = DelWorkload{uid};
      return Outgoing{DelWorkload{uid}, {}};
    }
  }
  for (const auto& [uid, workload] : wanted_) {
    if (held_.contains(uid) || refused_.contains(uid)) continue;
    inFlight_ = workload.info;
    return Outgoing{workload.info, workload.netnsPath};
  }
  return std::nullopt;
}

}  // namespace weft::nodeagent
