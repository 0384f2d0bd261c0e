#include "nodeagent/node_agent_client.h"

#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <thread>

#include "nodeagent/seqpacket.h"

namespace weft::nodeagent {

Result<NodeAgentClient> NodeAgentClient::connect(const std::filesystem::path& socketPath, const Hello& hello,
                                                 std::chrono::milliseconds timeout, std::chrono::milliseconds retryEvery) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto socket = connectSeqpacket(socketPath);
    if (socket) return start(std::move(*socket), hello);
    if (std::chrono::steady_clock::now() + retryEvery > deadline) return socket.error();
    std::this_thread::sleep_for(retryEvery);
  }
}

Result<NodeAgentClient> NodeAgentClient::start(net::UniqueFd socket, const Hello& hello) {
  NodeAgentClient client(std::move(socket));
  WEFT_TRY(sendPacket(client.fd(), encode(ZtunnelMessage(hello))));
  return client;
}

Result<ReceivedMessage> NodeAgentClient::receive() {
  if (lost_) return makeError("the node agent connection is closed");
  auto received = receivePacket(fd_.get());
  if (!received) return received.error();
  if (received->kind == Received::kWouldBlock) return makeError("no message waiting");
  if (received->kind == Received::kClosed) {
    lost_ = true;
    if (!received->reason.empty()) return makeError("node agent connection: {}", received->reason);
    return makeError("the node agent closed the connection");
  }
  Packet& packet = received->packet;
  auto message = decodeAgentMessage(packet.bytes, packet.fds.size());
  if (!message) return message.error();  // the packet's descriptors close here
  ReceivedMessage result{std::move(*message), {}};
  if (!packet.fds.empty()) {
    // Whatever arrived must be a network namespace before ztunnel setns()es into it.
    int type = ioctl(packet.fds[0].get(), NS_GET_NSTYPE);
    if (type != CLONE_NEWNET) return makeError("add: the file descriptor passed is not a network namespace");
    result.netns = std::move(packet.fds[0]);
  }
  return result;
}

Status NodeAgentClient::ack(std::string_view error) {
  if (auto sent = sendPacket(fd_.get(), encode(ZtunnelMessage(Ack{std::string(error)}))); !sent) {
    lost_ = true;
    return sent.error();
  }
  return {};
}

}  // namespace weft::nodeagent
