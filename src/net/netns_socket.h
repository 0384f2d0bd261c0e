#pragma once
// Sockets that belong to another network namespace. A socket keeps the namespace it was
// created in for its whole life, so only socket() has to run inside the pod's namespace:
// the calling thread steps in with setns, creates the socket and steps back. Everything
// else (setsockopt, bind, listen, connect, Asio) then works from anywhere, which is how
// one ztunnel process serves every pod of its node (reference 2.2).
//
// Only the calling thread moves, so other threads keep their namespace; the step back is
// checked, and failing it aborts, because a thread left in a pod's namespace would
// silently open every later socket there.

#include <functional>
#include <optional>

#include "base/result.h"
#include "net/ipv4_endpoint.h"
#include "net/unique_fd.h"

namespace weft::net {

// What ztunnel marks its own sockets with (DEFAULT_INPOD_MARK): the pod's capture rules
// let marked packets through instead of redirecting them back to ztunnel.
inline constexpr uint32_t kInpodMark = 0x539;

// Opens a network namespace file (/var/run/netns/NAME, /proc/PID/ns/net) read-only.
Result<UniqueFd> openNetns(const std::string& path);

// Runs `work` on this thread inside the namespace `netnsFd`, then returns to the
// namespace the thread was in. Fails (without running `work`) when the namespace cannot
// be entered.
Status runInNetns(int netnsFd, const std::function<void()>& work);

// socket(domain, type, protocol) inside the namespace. SOCK_CLOEXEC is always added.
Result<UniqueFd> socketInNetns(int netnsFd, int domain, int type, int protocol = 0);

enum class Transparency {
  kOff,
  kBestEffort,  // IP_TRANSPARENT when permitted, else carry on without (ztunnel's maybe_set_transparent)
  kRequired,
};

struct ListenOptions {
  Ipv4Endpoint bind;          // 0.0.0.0:15008, 127.0.0.1:15001, ...
  uint32_t mark = kInpodMark;  // SO_MARK; 0 leaves it unset
  Transparency transparent = Transparency::kOff;
  int backlog = 1024;
  bool nonBlocking = true;  // for poll loops and Asio (which accepts either)
};

// A listening TCP socket in the namespace with SO_REUSEADDR and SO_REUSEPORT (a new
// ztunnel binds beside the old one during an upgrade), SO_MARK and, if asked,
// IP_TRANSPARENT.
Result<UniqueFd> listenInNetns(int netnsFd, const ListenOptions& options);

struct ConnectOptions {
  uint32_t mark = kInpodMark;  // SO_MARK; 0 leaves it unset
  // Inbound upstream connections keep the client's address: IP_TRANSPARENT and
  // IP_FREEBIND, bound to this address (port chosen at connect time).
  std::optional<Ipv4Address> source;
  bool nonBlocking = true;
};

// An unconnected TCP socket in the namespace, ready for connect().
Result<UniqueFd> connectSocketInNetns(int netnsFd, const ConnectOptions& options);

// The local address a socket is bound to (getsockname), e.g. to read the port after
// binding port 0.
Result<Ipv4Endpoint> localEndpoint(int fd);

}  // namespace weft::net
