#pragma once
// A resource's version is a digest of its body, not a counter: an object that did not
// change keeps its version across snapshots, so a client that holds it is not sent it
// again, even after weftd restarts and rebuilds everything from scratch.

#include <string>

#include "weft/v1/discovery.pb.h"

namespace weft::control::discovery {

// 32 hex digits: the first 128 bits of SHA-256 over the body's deterministic serialization
// (map entries sorted), so equal bodies always hash alike. A cryptographic digest because
// a collision would silently withhold a change, e.g. to an authorization policy.
std::string resourceVersion(const weft::v1::Resource& resource);

}  // namespace weft::control::discovery
