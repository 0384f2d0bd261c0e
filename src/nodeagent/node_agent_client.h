#pragma once
// ztunnel's end of the node-agent protocol. It connects (retrying while the agent is not
// up yet), says hello and then reads one message at a time; every add, del and
// snapshot-sent must be answered with ack() before the agent sends the next.
//
// Reads block unless the socket was made non-blocking; an Asio user can wrap fd() in a
// posix::stream_descriptor, wait for readability and then call receive().

#include <chrono>
#include <filesystem>

#include "nodeagent/messages.h"
#include "net/unique_fd.h"

namespace weft::nodeagent {

struct ReceivedMessage {
  AgentMessage message;
  net::UniqueFd netns;  // the pod's network namespace, with an add; checked to be one
};

class NodeAgentClient {
 public:
  // Connects to `socketPath`, retrying every `retryEvery` for up to `timeout` (zero: one
  // try), and sends `hello`.
  static Result<NodeAgentClient> connect(const std::filesystem::path& socketPath, const Hello& hello,
                                         std::chrono::milliseconds timeout = std::chrono::milliseconds(0),
                                         std::chrono::milliseconds retryEvery = std::chrono::milliseconds(200));
  // Takes a connected socket (a socketpair in tests) and sends `hello`.
  static Result<NodeAgentClient> start(net::UniqueFd socket, const Hello& hello);

  int fd() const { return fd_.get(); }

  // The next message. An error is either about that message (answer it with ack(error)
  // and carry on) or, when connectionLost(), the end of the connection (reconnect).
  // A message is also refused when the socket is non-blocking and nothing is waiting.
  Result<ReceivedMessage> receive();
  Status ack(std::string_view error = {});
  bool connectionLost() const { return lost_; }

 private:
  explicit NodeAgentClient(net::UniqueFd fd) : fd_(std::move(fd)) {}

  net::UniqueFd fd_;
  bool lost_ = false;
};

}  // namespace weft::nodeagent
