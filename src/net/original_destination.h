#pragma once
// Where a redirected connection was going. The pod's nat rules REDIRECT outbound traffic
// to ztunnel's 15001 and plaintext inbound to 15006; conntrack remembers the address the
// client asked for, and SO_ORIGINAL_DST reads it back (reference 2.4).

#include "base/result.h"
#include "net/ipv4_endpoint.h"

namespace weft::net {

// The pre-NAT destination of an accepted IPv4 TCP connection. For a connection that was
// not NATed the kernel answers with the local address; for one without conntrack state,
// an error.
Result<Ipv4Endpoint> originalDestination(int fd);

}  // namespace weft::net
