#pragma once
// A proxy holds two descriptors per request in flight plus its idle upstream connections;
// the soft limit a shell hands down (often 1024) is far below what the hard limit allows.
// Raised at start-up, as Envoy and haproxy do, so a busy proxy does not fail accept() or
// connect() with EMFILE while the kernel would let it go on.

#include <cstddef>

namespace weft {

// Raises the soft RLIMIT_NOFILE to the hard limit (where the kernel allows it) and returns
// the soft limit in force afterwards.
size_t raiseDescriptorLimit();

}  // namespace weft
