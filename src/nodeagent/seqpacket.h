#pragma once
// SOCK_SEQPACKET Unix sockets: one message per packet (no framing to get wrong), file
// descriptors passed with SCM_RIGHTS, and the peer's hang-up seen as a zero-length read.
//
// Socket paths longer than sun_path (108 bytes, easy to exceed under a deep $WEFT_HOME)
// are reached through /proc/self/fd/<dir>/<name>, so any path works.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/unique_fd.h"

namespace weft::nodeagent {

// Where the node agent of `node` listens inside `dir` (WEFT_NODE_AGENT_DIR): <dir>/<node>.sock.
std::filesystem::path socketPathFor(const std::filesystem::path& dir, const std::string& node);

// A listening socket at `path` (an old socket file there is replaced), non-blocking.
Result<net::UniqueFd> listenSeqpacket(const std::filesystem::path& path);
// A connected socket; blocking unless `nonBlocking`.
Result<net::UniqueFd> connectSeqpacket(const std::filesystem::path& path, bool nonBlocking = false);

// Sends one packet, with `passFd` attached when it is >= 0. Never raises SIGPIPE.
Status sendPacket(int fd, std::string_view bytes, int passFd = -1);

struct Packet {
  std::string bytes;
  std::vector<net::UniqueFd> fds;  // owned: closed unless the caller takes them
};

struct Received {
  enum Kind { kPacket, kWouldBlock, kClosed } kind = kPacket;
  Packet packet;
  std::string reason;  // with kClosed: why, when the socket failed rather than hung up
};

// Reads one packet; a failing socket reads as kClosed. A packet larger than kMaxMessageSize, or with more descriptors than
// fit, is an error; descriptors it carried are closed.
Result<Received> receivePacket(int fd);

}  // namespace weft::nodeagent
