#pragma once
// IPv4 addresses and CIDR blocks as plain integers: the local cluster carves its pod and
// Service ranges into node slices and VIPs, and later the registry matches addresses.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace weft {

struct Ipv4Address {
  uint32_t value = 0;  // host byte order

  static Result<Ipv4Address> parse(std::string_view text);
  std::string str() const;
  auto operator<=>(const Ipv4Address&) const = default;
};

struct Ipv4Cidr {
  Ipv4Address base;
  int prefix = 32;

  // "198.18.0.0/16". The base must be the network address: "198.18.0.1/16" is refused,
  // since a range written that way is usually a typo for another range.
  static Result<Ipv4Cidr> parse(std::string_view text);
  std::string str() const;

  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  bool contains(Ipv4Address address) const;
  bool contains(const Ipv4Cidr& inner) const;
  bool overlaps(const Ipv4Cidr& other) const;
  // The address `offset` places into the block (offset < size()).
  Ipv4Address at(uint64_t offset) const { return Ipv4Address{base.value + static_cast<uint32_t>(offset)}; }
  // The `index`th sub-block of length `subPrefix` (subPrefix >= prefix).
  Ipv4Cidr subBlock(int subPrefix, uint64_t index) const;
  auto operator<=>(const Ipv4Cidr&) const = default;
};

}  // namespace weft
