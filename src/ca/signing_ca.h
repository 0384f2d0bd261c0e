#pragma once
// Root and intermediate CA certificates with the contents Istio's tools/certs
// Makefile.selfsigned.mk produces (targets root-ca and <name>-cacerts), so that a Weft
// root can sign an intermediate for Istio and the other way round.

#include <string>

#include "base/clock.h"
#include "ca/key_spec.h"
#include "tls/openssl_types.h"

namespace weft::ca {

struct CaCertOptions {
  std::string org = "Istio";
  std::string cn;  // may be empty: the subject is then O=<org> alone
  int days = 3650;
  KeySpec key = KeySpec::rsa(4096);
};

// The SAN Istio's intermediate.conf gives every intermediate (INTERMEDIATE_SAN_DNS).
inline constexpr const char* kIntermediateSanDns = "istiod.istio-system.svc";

struct CaCertAndKey {
  tls::X509Ptr cert;
  tls::EvpPkeyPtr key;
};

// Self-signed root: subject O=<org>, CN=<cn>; basicConstraints critical CA:true; keyUsage
// critical digitalSignature, nonRepudiation, keyEncipherment, keyCertSign; SKI.
Result<CaCertAndKey> makeRootCa(const CaCertOptions& options, const Clock& clock);

// Intermediate signed by `root`: subject O=<org>, CN=<cn>, L=<name> (the locality tells
// clusters apart); basicConstraints critical CA:true, pathlen:0; the root's key usage;
// SAN DNS istiod.istio-system.svc; SKI and AKI.
Result<CaCertAndKey> makeIntermediateCa(const CaCertOptions& options, const std::string& name, X509* root,
                                        EVP_PKEY* rootKey, const Clock& clock);

}  // namespace weft::ca
