#include "ca/workload_issuer.h"

#include "base/duration.h"
#include "ca/cert_builder.h"
#include "ca/csr.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::ca {

Result<IssuedWorkloadCert> WorkloadIssuer::issue(const WorkloadCertRequest& request) const {
  auto ttl = request.ttl.count() <= 0 ? kDefaultWorkloadTtl : request.ttl;
  if (ttl > kMaxWorkloadTtl) {
    return makeError("requested TTL {} exceeds the maximum of {}", formatDuration(ttl), formatDuration(kMaxWorkloadTtl));
  }
  auto csr = tls::parseCsr(request.csr);
  if (!csr) return csr.error();
  auto publicKey = checkCsr(csr->get(), request.identity);
  if (!publicKey) return publicKey.error();

  auto now = std::chrono::floor<std::chrono::seconds>(clock_());
  if (tls::notAfter(ca_->signingCert.get()) <= now) return makeError("the signing CA certificate has expired");
  auto notAfter = std::min<SystemTime>(now + ttl, tls::notAfter(ca_->signingCert.get()));
  CertificateSpec spec{
      .subject = {},
      .notBefore = now - kClockSkewGrace,
      .notAfter = notAfter,
      .extensions = {{NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                     {NID_ext_key_usage, "serverAuth,clientAuth"},
                     {NID_basic_constraints, "critical,CA:FALSE"},
                     {NID_authority_key_identifier, "keyid:always"}},
      .criticalUriSans = {request.identity.uri()},
  };
  auto leaf = buildCertificate(spec, publicKey->get(), ca_->signingCert.get(), ca_->signingKey.get());
  if (!leaf) return leaf.error();
  IssuedWorkloadCert issued;
  issued.certChainPem = tls::toPem(leaf->get()) + ca_->chainPem();
  issued.rootPem = ca_->rootPem();
  issued.leaf = std::move(leaf.value());
  return issued;
}

}  // namespace weft::ca
