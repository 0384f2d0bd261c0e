#pragma once
// A small root + intermediate PKI for tests, with EC keys so suites stay fast, made at a
// fixed instant so validity checks are deterministic.

#include <chrono>

#include "ca/ca_bundle.h"
#include "ca/signing_ca.h"

namespace weft::ca::testing {

// 2026-01-01T00:00:00Z: tests move the clock relative to this.
inline SystemTime testEpoch() { return std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}; }

struct TestPki {
  CaCertAndKey root;
  CaCertAndKey intermediate;

  // Days of validity for both CAs.
  static TestPki make(int days = 3650, SystemTime at = testEpoch());

  CaFiles istioFiles() const;       // ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem
  CaFiles kubernetesFiles() const;  // tls.crt, tls.key, ca.crt
  CaBundle bundle() const;          // loaded through loadCaFiles, so it is what production sees
};

}  // namespace weft::ca::testing
