#pragma once
// Assembles and signs an X.509 v3 certificate. Every certificate Weft makes (roots,
// intermediates, workload leaves) goes through here, so serials, validity encoding and
// signature choice are decided once.

#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "tls/openssl_types.h"

namespace weft::ca {

struct NameEntry {
  std::string field;  // "O", "CN", "L", ...
  std::string value;
};

struct Extension {
  int nid;
  std::string value;  // OpenSSL config syntax, e.g. "critical,CA:true,pathlen:0"
};

struct CertificateSpec {
  std::vector<NameEntry> subject;  // empty: an empty subject, as workload certificates have
  SystemTime notBefore;
  SystemTime notAfter;
  std::vector<Extension> extensions;  // added in order; put subjectKeyIdentifier before authorityKeyIdentifier
  std::vector<std::string> criticalUriSans;  // added as one critical subjectAltName extension
};

// Signs `spec` for `subjectKey`. With `issuer` null the certificate is self-signed by
// `issuerKey` (which must then be the subject's own key). SHA-256 for RSA and ECDSA.
Result<tls::X509Ptr> buildCertificate(const CertificateSpec& spec, EVP_PKEY* subjectKey, X509* issuer, EVP_PKEY* issuerKey);

}  // namespace weft::ca
