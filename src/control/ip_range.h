#pragma once
// An IPv4 or IPv6 CIDR range, as Go's net.ParseCIDR reads it (host bits are masked off,
// so "10.1.2.3/8" is 10.0.0.0/8; a bare address is its own /32 or /128), checked against
// a socket address as the kernel will connect it: an IPv4-mapped IPv6 address
// (::ffff:10.0.0.1) is in an IPv4 range holding the address it maps, so it cannot slip
// past one, and in an IPv6 range holding it as written.

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace weft::control {

class IpRange {
 public:
  static Result<IpRange> parse(std::string_view text);
  bool contains(const sockaddr* address) const;
  const std::string& text() const { return text_; }

 private:
  bool containsBytes(const uint8_t* bytes, int family) const;

  int family_ = AF_INET;
  std::array<uint8_t, 16> bytes_{};
  int prefix_ = 32;
  std::string text_;  // as normalised: "10.0.0.0/8"
};

}  // namespace weft::control
