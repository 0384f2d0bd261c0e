#pragma once
// Istio's SPIFFE identity form, spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>,
// parsed and checked strictly: the CA signs exactly this and nothing that merely resembles it.

#include <string>
#include <string_view>

#include "base/result.h"

namespace weft::tls {

struct SpiffeId {
  std::string trustDomain;
  std::string ns;
  std::string serviceAccount;

  std::string uri() const;
  bool operator==(const SpiffeId&) const = default;

  // Builds an identity after checking each part; the error names the part at fault.
  static Result<SpiffeId> make(std::string trustDomain, std::string ns, std::string serviceAccount);
  static Result<SpiffeId> parse(std::string_view uri);
};

// A trust domain is a DNS-like name per the SPIFFE spec: 1-255 of [a-z0-9.-_], no empty
// dot-separated part. Upper case is refused rather than folded, as SPIFFE requires.
Status checkTrustDomain(std::string_view trustDomain);

}  // namespace weft::tls
