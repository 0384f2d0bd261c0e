#pragma once
// The node-agent protocol: Weft's version of Istio's ZDS (reference 2.2), between the node
// agent (which knows the node's pods: the local runtime, later a Kubernetes CNI agent) and
// ztunnel. One small JSON document per SOCK_SEQPACKET packet, at most kMaxMessageSize
// bytes; the agent listens, ztunnel connects.
//
//   ztunnel -> agent  {"type":"hello","version":1,"node":N,"revision":R}
//   agent -> ztunnel  {"type":"add","uid":U,"name":..,"namespace":..,"serviceAccount":..,
//                      "address":"198.18.1.5","node":N}            + exactly one netns fd
//                     {"type":"del","uid":U}
//                     {"type":"snapshot-sent"}
//   ztunnel -> agent  {"type":"ack","error":""}                     after each of the three
//
// This file is the codec alone: bytes and a count of passed descriptors in, a checked
// message out. Everything here is peer input: unknown fields are ignored (so either side
// can grow), anything else that does not fit is an error naming what is wrong.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.h"

namespace weft::nodeagent {

inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kMaxMessageSize = 4096;

struct Hello {
  int version = kProtocolVersion;
  std::string node;
  std::string revision;  // "default" or a revision name ("prod"): which pods are the mesh's
  bool operator==(const Hello&) const = default;
};

// A pod to serve; the packet carries the pod's network namespace.
struct AddWorkload {
  std::string uid;  // the Pod's metadata.uid
  std::string name;
  std::string ns;
  std::string serviceAccount;
  std::string address;  // the pod IP
  std::string node;
  bool operator==(const AddWorkload&) const = default;
};

struct DelWorkload {
  std::string uid;
  bool operator==(const DelWorkload&) const = default;
};

// Every pod the agent knows was replayed; ztunnel drops the ones it holds that were not.
struct SnapshotSent {
  bool operator==(const SnapshotSent&) const = default;
};

struct Ack {
  std::string error;  // empty: done
  bool operator==(const Ack&) const = default;
};

using AgentMessage = std::variant<AddWorkload, DelWorkload, SnapshotSent>;  // agent -> ztunnel
using ZtunnelMessage = std::variant<Hello, Ack>;                            // ztunnel -> agent

std::string encode(const AgentMessage& message);
std::string encode(const ZtunnelMessage& message);

// `fds` is how many descriptors arrived with the packet: one with an add, none otherwise.
Result<AgentMessage> decodeAgentMessage(std::string_view bytes, size_t fds);
Result<ZtunnelMessage> decodeZtunnelMessage(std::string_view bytes, size_t fds);

// "add", "del", "snapshot-sent", "hello", "ack": for logs.
std::string_view typeName(const AgentMessage& message);
std::string_view typeName(const ZtunnelMessage& message);

}  // namespace weft::nodeagent
