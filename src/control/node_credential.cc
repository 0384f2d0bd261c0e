#include "control/node_credential.h"

#include <openssl/x509v3.h>

#include "base/k8s_names.h"
#include "ca/cert_builder.h"
#include "ca/key_spec.h"
#include "ca/workload_issuer.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::control {

Result<NodeCredential> issueNodeCredential(const ca::CaBundle& ca, const std::string& node, const Clock& clock) {
  if (auto problem = checkDns1123Subdomain(node)) return makeError("node name \"{}\": {}", node, *problem);
  auto key = ca::generateKey(ca::KeySpec::ecdsaP256());
  if (!key) return key.error();
  auto now = std::chrono::floor<std::chrono::seconds>(clock());
  ca::CertificateSpec spec{
      .subject = {},
      .notBefore = now - ca::kClockSkewGrace,
      .notAfter = std::min<SystemTime>(now + kNodeCredentialTtl, tls::notAfter(ca.signingCert.get())),
      .extensions = {{NID_key_usage, "critical,digitalSignature"},
                     {NID_ext_key_usage, "clientAuth"},
                     {NID_basic_constraints, "critical,CA:FALSE"},
                     {NID_authority_key_identifier, "keyid:always"}},
      .criticalUriSans = {std::string(kNodeUriPrefix) + node},
  };
  auto cert = ca::buildCertificate(spec, key->get(), ca.signingCert.get(), ca.signingKey.get());
  if (!cert) return cert.error().wrap("node credential for " + node);
  return NodeCredential{tls::toPem(cert->get()) + ca.chainPem(), tls::privateKeyToPem(key->get())};
}

}  // namespace weft::control
