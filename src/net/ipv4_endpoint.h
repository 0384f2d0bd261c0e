#pragma once
// An IPv4 address and port, and its conversion to and from the kernel's sockaddr_in.

#include <netinet/in.h>

#include <cstdint>
#include <string>

#include "base/ipv4.h"

namespace weft::net {

struct Ipv4Endpoint {
  Ipv4Address address;
  uint16_t port = 0;

  std::string str() const;  // "198.18.1.5:8000"
  auto operator<=>(const Ipv4Endpoint&) const = default;
};

sockaddr_in toSockaddr(const Ipv4Endpoint& endpoint);
Ipv4Endpoint fromSockaddr(const sockaddr_in& address);

}  // namespace weft::net
