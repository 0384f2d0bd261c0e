#include "control/serving_credential.h"

#include <openssl/x509v3.h>

#include "ca/cert_builder.h"
#include "ca/key_spec.h"
#include "ca/workload_issuer.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::control {

std::vector<std::string> controlPlaneDnsNames(const std::string& revision) {
  std::vector<std::string> names{"istiod.istio-system.svc"};
  if (!revision.empty() && revision != "default") names.push_back("istiod-" + revision + ".istio-system.svc");
  return names;
}

Result<ServingCredential> issueServingCredential(const ca::CaBundle& ca, const std::vector<std::string>& dnsNames, const Clock& clock) {
  auto key = ca::generateKey(ca::KeySpec::ecdsaP256());
  if (!key) return key.error();
  std::string sans;
  for (const auto& name : dnsNames) sans += (sans.empty() ? "DNS:" : ",DNS:") + name;
  auto now = std::chrono::floor<std::chrono::seconds>(clock());
  ca::CertificateSpec spec{
      .subject = {},
      .notBefore = now - ca::kClockSkewGrace,
      .notAfter = std::min<SystemTime>(now + ca::kMaxWorkloadTtl, tls::notAfter(ca.signingCert.get())),
      .extensions = {{NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                     {NID_ext_key_usage, "serverAuth"},
                     {NID_basic_constraints, "critical,CA:FALSE"},
                     {NID_authority_key_identifier, "keyid:always"},
                     {NID_subject_alt_name, "critical," + sans}},
      .criticalUriSans = {},
  };
  auto cert = ca::buildCertificate(spec, key->get(), ca.signingCert.get(), ca.signingKey.get());
  if (!cert) return cert.error().wrap("weftd serving certificate");
  return ServingCredential{tls::toPem(cert->get()) + ca.chainPem(), tls::privateKeyToPem(key->get())};
}

}  // namespace weft::control
