#include "nodeagent/seqpacket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "nodeagent/messages.h"

namespace weft::nodeagent {

namespace fs = std::filesystem;

namespace {

// More room than the one descriptor an add carries, so a peer sending a few is told so
// (and they are closed) instead of the extras vanishing silently.
constexpr size_t kMaxFds = 8;

// The address for `path`, and the directory fd that must stay open while it is used.
struct UnixAddress {
  sockaddr_un address{};
  net::UniqueFd dir;
};

Result<UnixAddress> unixAddress(const fs::path& path) {
  UnixAddress result;
  result.address.sun_family = AF_UNIX;
  std::string text = path.string();
  if (text.size() >= sizeof result.address.sun_path) {
    fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    result.dir.reset(open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!result.dir) return makeError("{}: {}", parent.string(), std::strerror(errno));
    text = fmt::format("/proc/self/fd/{}/{}", result.dir.get(), path.filename().string());
    if (text.size() >= sizeof result.address.sun_path) return makeError("{}: the socket's file name is too long", path.string());
  }
  std::memcpy(result.address.sun_path, text.c_str(), text.size() + 1);
  return result;
}

}  // namespace

fs::path socketPathFor(const fs::path& dir, const std::string& node) { return dir / (node + ".sock"); }

Result<net::UniqueFd> listenSeqpacket(const fs::path& path) {
  auto address = unixAddress(path);
  if (!address) return address.error();
  net::UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return makeError("socket: {}", std::strerror(errno));
  std::error_code ec;
  fs::remove(path, ec);  // a previous agent's socket: nobody can be connected to it any more
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address->address), sizeof address->address) != 0) {
    return makeError("binding {}: {}", path.string(), std::strerror(errno));
  }
  // Only root (the agent and ztunnel) may connect: whoever can, can ask for pods' namespaces.
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
  if (listen(fd.get(), 16) != 0) return makeError("listening on {}: {}", path.string(), std::strerror(errno));
  return fd;
}

Result<net::UniqueFd> connectSeqpacket(const fs::path& path, bool nonBlocking) {
  auto address = unixAddress(path);
  if (!address) return address.error();
  net::UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0), 0));
  if (!fd) return makeError("socket: {}", std::strerror(errno));
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address->address), sizeof address->address) != 0) {
    return makeError("connecting to {}: {}", path.string(), std::strerror(errno));
  }
  return fd;
}

Status sendPacket(int fd, std::string_view bytes, int passFd) {
  if (bytes.size() > kMaxMessageSize) return makeError("message of {} bytes is larger than {}", bytes.size(), kMaxMessageSize);
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
  if (passFd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &passFd, sizeof(int));
  }
  while (true) {
    ssize_t sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (sent >= 0) return {};
    if (errno == EINTR) continue;
    return makeError("send: {}", std::strerror(errno));
  }
}

Result<Received> receivePacket(int fd) {
  Received received;
  std::string buffer(kMaxMessageSize, '\0');
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)]{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Received{Received::kWouldBlock, {}, {}};
    return Received{Received::kClosed, {}, std::strerror(errno)};
  }
  // Take ownership of every descriptor first, so each error below closes them.
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int passed;
      std::memcpy(&passed, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      received.packet.fds.emplace_back(passed);
    }
  }
  if (n == 0 && received.packet.fds.empty()) return Received{Received::kClosed, {}, {}};
  if (msg.msg_flags & MSG_TRUNC) return makeError("message larger than {} bytes", kMaxMessageSize);
  if (msg.msg_flags & MSG_CTRUNC) return makeError("message carries more than {} file descriptors", kMaxFds);
  buffer.resize(static_cast<size_t>(n));
  received.packet.bytes = std::move(buffer);
  return received;
}

}  // namespace weft::nodeagent
