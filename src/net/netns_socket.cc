#include "net/netns_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

namespace weft::net {
namespace {

// Where the calling thread's own namespace is; /proc/self would name the main thread's.
constexpr const char* kThreadNetns = "/proc/thread-self/ns/net";

Status setIntOption(int fd, int level, int name, int value, std::string_view what) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) return makeError("{}: {}", what, std::strerror(errno));
  return {};
}

Status setMark(int fd, uint32_t mark) {
  if (mark == 0) return {};
  return setIntOption(fd, SOL_SOCKET, SO_MARK, static_cast<int>(mark), "SO_MARK");
}

}  // namespace

Result<UniqueFd> openNetns(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return makeError("network namespace {}: {}", path, std::strerror(errno));
  return fd;
}

Status runInNetns(int netnsFd, const std::function<void()>& work) {
  UniqueFd home(open(kThreadNetns, O_RDONLY | O_CLOEXEC));
  if (!home) return makeError("{}: {}", kThreadNetns, std::strerror(errno));
  if (setns(netnsFd, CLONE_NEWNET) != 0) return makeError("entering network namespace (fd {}): {}", netnsFd, std::strerror(errno));
  work();
  if (setns(home.get(), CLONE_NEWNET) != 0) {
    // Our own namespace, opened a moment ago, refused us: nothing on this thread can be
    // trusted to open sockets in the right place any more.
    spdlog::critical("returning to the original network namespace: {}", std::strerror(errno));
    std::abort();
  }
  return {};
}

Result<UniqueFd> socketInNetns(int netnsFd, int domain, int type, int protocol) {
  int fd = -1;
  int error = 0;
  WEFT_TRY(runInNetns(netnsFd, [&] {
    fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    error = errno;
  }));
  if (fd < 0) return makeError("socket: {}", std::strerror(error));
  return UniqueFd(fd);
}

Result<UniqueFd> listenInNetns(int netnsFd, const ListenOptions& options) {
  auto socket = socketInNetns(netnsFd, AF_INET, SOCK_STREAM | (options.nonBlocking ? SOCK_NONBLOCK : 0));
  if (!socket) return socket.error();
  int fd = socket->get();
  auto fail = [&](const Error& e) { return e.wrap(fmt::format("listening on {}", options.bind.str())); };
  if (auto s = setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"); !s) return fail(s.error());
  if (auto s = setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT"); !s) return fail(s.error());
  if (auto s = setMark(fd, options.mark); !s) return fail(s.error());
  if (options.transparent != Transparency::kOff) {
    auto s = setIntOption(fd, SOL_IP, IP_TRANSPARENT, 1, "IP_TRANSPARENT");
    if (!s && options.transparent == Transparency::kRequired) return fail(s.error());
  }
  sockaddr_in address = toSockaddr(options.bind);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return fail(makeError("bind: {}", std::strerror(errno)));
  }
  if (listen(fd, options.backlog) != 0) return fail(makeError("listen: {}", std::strerror(errno)));
  return socket;
}

Result<UniqueFd> connectSocketInNetns(int netnsFd, const ConnectOptions& options) {
  auto socket = socketInNetns(netnsFd, AF_INET, SOCK_STREAM | (options.nonBlocking ? SOCK_NONBLOCK : 0));
  if (!socket) return socket.error();
  int fd = socket->get();
  WEFT_TRY(setMark(fd, options.mark));
  if (options.source) {
    WEFT_TRY(setIntOption(fd, SOL_IP, IP_TRANSPARENT, 1, "IP_TRANSPARENT"));
    WEFT_TRY(setIntOption(fd, SOL_IP, IP_FREEBIND, 1, "IP_FREEBIND"));
    // The port is picked at connect() time, against the full 4-tuple: many connections
    // from one client address to different upstreams do not each use up a port.
    (void)setIntOption(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT");
    sockaddr_in address = toSockaddr({*options.source, 0});
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      return makeError("binding to source {}: {}", options.source->str(), std::strerror(errno));
    }
  }
  return socket;
}

Result<Ipv4Endpoint> localEndpoint(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return makeError("getsockname: {}", std::strerror(errno));
  if (address.sin_family != AF_INET) return makeError("getsockname: not an IPv4 socket");
  return fromSockaddr(address);
}

}  // namespace weft::net
