#pragma once
// Issues workload certificates the way istiod does: the identity comes from the caller,
// the CSR only supplies the key. See docs/ca.md for the exact contents.

#include <chrono>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "ca/ca_bundle.h"
#include "tls/spiffe_id.h"

namespace weft::ca {

inline constexpr std::chrono::seconds kDefaultWorkloadTtl = std::chrono::hours(24);     // DEFAULT_WORKLOAD_CERT_TTL
inline constexpr std::chrono::seconds kMaxWorkloadTtl = std::chrono::hours(24 * 90);    // MAX_WORKLOAD_CERT_TTL
inline constexpr std::chrono::seconds kClockSkewGrace = std::chrono::minutes(2);

struct WorkloadCertRequest {
  std::string csr;  // PEM or DER
  tls::SpiffeId identity;
  std::chrono::seconds ttl{0};  // <= 0 asks for the default
};

struct IssuedWorkloadCert {
  tls::X509Ptr leaf;
  std::string certChainPem;  // leaf, then the CA chain up to the root
  std::string rootPem;
};

class WorkloadIssuer {
 public:
  WorkloadIssuer(std::shared_ptr<const CaBundle> ca, Clock clock) : ca_(std::move(ca)), clock_(std::move(clock)) {}

  // Empty subject; SAN URI <identity> (critical); keyUsage critical digitalSignature,
  // keyEncipherment; extKeyUsage serverAuth, clientAuth; basicConstraints critical
  // CA:FALSE; authorityKeyIdentifier. Valid from now-2m to now+TTL, never past the CA's
  // own expiry. A TTL above 90 days is refused, not shortened.
  Result<IssuedWorkloadCert> issue(const WorkloadCertRequest& request) const;

  const CaBundle& ca() const { return *ca_; }

 private:
  std::shared_ptr<const CaBundle> ca_;
  Clock clock_;
};

}  // namespace weft::ca
