#pragma once
// The proxy's own workload certificate as its ISTIO_MUTUAL servers read it: set on the
// certificate manager's thread when weftd issues or renews it, read by config builds on
// discovery's and the DNS lookups' threads.

#include <mutex>
#include <optional>
#include <utility>

#include "proxy/tls_listener.h"

namespace weft::proxy {

class OwnCredential {
 public:
  void set(ServerCredential credential) {
    std::lock_guard lock(mutex_);
    credential_ = std::move(credential);
  }
  std::optional<ServerCredential> get() const {
    std::lock_guard lock(mutex_);
    return credential_;
  }
  // For ProxyConfig::build; valid while this object lives.
  WorkloadCredential source() const {
    return [this] { return get(); };
  }

 private:
  mutable std::mutex mutex_;
  std::optional<ServerCredential> credential_;
};

}  // namespace weft::proxy
