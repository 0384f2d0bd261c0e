#pragma once
// The material a CA signs with: the signing certificate and key, the chain from it up to
// the root, and the root. Loaded from a plug-in directory (or the data of a `cacerts`
// Secret) in either layout Istio accepts, or made as a self-signed root when none exists.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "tls/openssl_types.h"

namespace weft::ca {

enum class CaLayout {
  kIstio,          // ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem
  kKubernetesTls,  // tls.crt, tls.key, ca.crt
  kSelfSigned,     // made by makeSelfSignedCa
};

struct CaBundle {
  tls::X509Ptr signingCert;
  tls::EvpPkeyPtr signingKey;
  std::vector<tls::X509Ptr> chain;  // signingCert first, root last
  CaLayout layout = CaLayout::kIstio;

  X509* root() const { return chain.back().get(); }
  // The chain a workload certificate is followed by: everything from signingCert to root.
  std::string chainPem() const;
  std::string rootPem() const;
};

using CaFiles = std::map<std::string, std::string>;  // file name -> contents

// Checks, and refuses with the offending file named: the key matches the signing
// certificate; the signing certificate is a CA allowed to sign certificates; the chain
// verifies to a self-signed root; no certificate in it has expired or is not yet valid.
// `source` (a directory or a Secret's name) prefixes every error.
Result<CaBundle> loadCaFiles(const CaFiles& files, const std::string& source, const Clock& clock);
Result<CaBundle> loadCaDirectory(const std::filesystem::path& dir, const Clock& clock);

// What istiod makes when no plug-in CA exists: an RSA 2048 root, O=<trust domain>,
// valid 3650 days (CITADEL_SELF_SIGNED_CA_CERT_TTL).
Result<CaBundle> makeSelfSignedCa(const std::string& trustDomain, const Clock& clock);

// The files of a bundle in the Istio layout (what `weft ca intermediate` writes).
CaFiles toIstioFiles(const CaBundle& bundle);

}  // namespace weft::ca
