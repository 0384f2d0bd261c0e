#pragma once
// The node agent's listening end for one node: a SOCK_SEQPACKET socket ztunnel connects
// to, driven by the owner's poll loop (nothing here blocks or starts a thread).
//
// Connections: every ztunnel that connects is accepted; the newest one that said hello is
// the one served. An older connection (the ztunnel being replaced during an upgrade) is
// kept open but sent nothing more, and closed when its peer hangs up; closing it ourselves
// would only make it reconnect and take the node back.
//
// The owner says what ztunnel should serve with setWorkloads() (level-based: the whole
// set each time); the session turns differences into add/del messages, one at a time.

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "nodeagent/agent_session.h"
#include "net/unique_fd.h"

namespace weft::nodeagent {

struct NodeAgentServerOptions {
  std::filesystem::path socketPath;
  std::string node;
  // Called when a ztunnel says hello, before its replay starts: the owner may compute the
  // workloads for its revision and call setWorkloads() from here.
  std::function<void(const Hello&)> onHello;
};

class NodeAgentServer {
 public:
  static Result<std::unique_ptr<NodeAgentServer>> listen(NodeAgentServerOptions options);
  ~NodeAgentServer();  // closes every connection and removes the socket file
  NodeAgentServer(const NodeAgentServer&) = delete;
  NodeAgentServer& operator=(const NodeAgentServer&) = delete;

  // Descriptors to poll for POLLIN: the listener and every connection.
  std::vector<int> pollFds() const;
  // Accepts, reads and answers whatever is ready; call when any pollFds() is readable.
  void onReadable();
  void setWorkloads(WorkloadSet workloads);

  // The hello of the ztunnel being served, if one is connected.
  std::optional<Hello> connectedZtunnel() const;
  // What the served ztunnel acknowledged holding (uids).
  std::set<std::string> held() const;
  const std::string& node() const { return options_.node; }

 private:
  struct Connection {
    net::UniqueFd fd;
    AgentSession session;
    uint64_t id = 0;
    bool broken = false;  // closed or misbehaving: erased by sweep(), never while being read
  };

  explicit NodeAgentServer(NodeAgentServerOptions options, net::UniqueFd listener);
  void acceptAll();
  // False when the connection is finished (closed by the peer or a protocol error).
  bool readAll(Connection& connection);
  void pump();
  void drop(Connection* connection, const std::string& why);
  void sweep();

  NodeAgentServerOptions options_;
  net::UniqueFd listener_;
  std::vector<std::unique_ptr<Connection>> connections_;
  Connection* active_ = nullptr;
  WorkloadSet workloads_;
  uint64_t nextId_ = 1;
  bool reading_ = false;  // inside onReadable: connections must stay where they are
};

}  // namespace weft::nodeagent
