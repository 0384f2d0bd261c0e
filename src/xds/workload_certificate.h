#pragma once
// A workload's certificate as a data-plane process (ztunnel, a waypoint) holds it: the key it generated, the chain weftd
// signed (leaf first, root last) and the times that drive renewal.

#include <chrono>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"

namespace weft::xds {

struct WorkloadCertificate {
  std::string identity;               // spiffe://td/ns/x/sa/y
  std::vector<std::string> chainPem;  // leaf first, then intermediates, the root last
  std::string keyPem;
  SystemTime notBefore;
  SystemTime notAfter;
  uint64_t serial = 0;  // our own counter: a new one per issue, so caches can tell

  // Half-way through the validity, as Istio's agents renew.
  SystemTime refreshAt() const { return notBefore + (notAfter - notBefore) / 2; }
  bool validAt(SystemTime now) const { return now >= notBefore && now < notAfter; }
  std::string leafAndIntermediatesPem() const;  // what a TLS endpoint presents
  std::string rootPem() const { return chainPem.empty() ? std::string() : chainPem.back(); }
};

// Checks a chain from the CA: parses, the leaf names `identity` as its only URI SAN and
// matches `keyPem`. A CA answer is outside input; nothing unchecked is used.
Result<WorkloadCertificate> acceptIssuedChain(const std::string& identity, std::vector<std::string> chainPem, std::string keyPem);

}  // namespace weft::xds
