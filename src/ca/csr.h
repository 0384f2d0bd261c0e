#pragma once
// Certificate signing requests: made by workloads (ztunnel, proxies, `weft ca sign`) and
// checked by the CA before anything is signed.

#include "base/result.h"
#include "tls/openssl_types.h"
#include "tls/spiffe_id.h"

namespace weft::ca {

// A CSR with an empty subject and one URI SAN, the way ztunnel and istio-agent ask.
Result<tls::X509ReqPtr> makeCsr(EVP_PKEY* key, const tls::SpiffeId& identity);

// Refuses a CSR whose signature does not verify, whose key is weak, or whose SANs are
// anything but at most one spiffe:// URI equal to `identity`. The identity itself comes
// from the authenticated caller, never from the CSR; the CSR may only agree with it.
// Returns the CSR's public key for the certificate.
Result<tls::EvpPkeyPtr> checkCsr(X509_REQ* csr, const tls::SpiffeId& identity);

}  // namespace weft::ca
