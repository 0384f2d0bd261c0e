#include "net/original_destination.h"

#include <linux/netfilter_ipv4.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace weft::net {

Result<Ipv4Endpoint> originalDestination(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &address, &length) != 0) {
    return makeError("SO_ORIGINAL_DST: {}", std::strerror(errno));
  }
  if (address.sin_family != AF_INET) return makeError("SO_ORIGINAL_DST: not an IPv4 address (family {})", address.sin_family);
  return fromSockaddr(address);
}

}  // namespace weft::net
