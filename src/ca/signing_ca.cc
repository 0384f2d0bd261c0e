#include "ca/signing_ca.h"

#include "ca/cert_builder.h"
#include "tls/x509_info.h"

namespace weft::ca {
namespace {

constexpr const char* kCaKeyUsage = "critical,digitalSignature,nonRepudiation,keyEncipherment,keyCertSign";

Status checkOptions(const CaCertOptions& options) {
  if (options.org.empty()) return makeError("--org must not be empty");
  if (options.days < 1 || options.days > 36500) return makeError("--days {} is out of range (1..36500)", options.days);
  return {};
}

// O=<org>, CN=<cn>; the CN is left out when empty, as in istiod's self-signed root.
std::vector<NameEntry> subjectOf(const CaCertOptions& options) {
  std::vector<NameEntry> subject{{"O", options.org}};
  if (!options.cn.empty()) subject.push_back({"CN", options.cn});
  return subject;
}

}  // namespace

Result<CaCertAndKey> makeRootCa(const CaCertOptions& options, const Clock& clock) {
  WEFT_TRY(checkOptions(options));
  auto key = generateKey(options.key);
  if (!key) return key.error();
  auto now = clock();
  CertificateSpec spec{
      .subject = subjectOf(options),
      .notBefore = now,
      .notAfter = now + std::chrono::days(options.days),
      .extensions = {{NID_subject_key_identifier, "hash"},
                     {NID_basic_constraints, "critical,CA:true"},
                     {NID_key_usage, kCaKeyUsage}},
      .criticalUriSans = {},
  };
  auto cert = buildCertificate(spec, key->get(), nullptr, key->get());
  if (!cert) return cert.error();
  return CaCertAndKey{std::move(cert.value()), std::move(key.value())};
}

Result<CaCertAndKey> makeIntermediateCa(const CaCertOptions& options, const std::string& name, X509* root,
                                        EVP_PKEY* rootKey, const Clock& clock) {
  WEFT_TRY(checkOptions(options));
  if (name.empty()) return makeError("the intermediate needs a name (the cluster it serves)");
  if (!tls::isCa(root)) return makeError("the root certificate is not a CA");
  if (!tls::keyMatchesCertificate(root, rootKey)) return makeError("the root key does not match the root certificate");
  auto now = clock();
  if (tls::notAfter(root) < now) return makeError("the root certificate expired");
  auto key = generateKey(options.key);
  if (!key) return key.error();
  CertificateSpec spec{
      .subject = {{"O", options.org}, {"CN", options.cn}, {"L", name}},
      .notBefore = now,
      .notAfter = now + std::chrono::days(options.days),
      .extensions = {{NID_subject_key_identifier, "hash"},
                     {NID_authority_key_identifier, "keyid:always"},
                     {NID_basic_constraints, "critical,CA:true,pathlen:0"},
                     {NID_key_usage, kCaKeyUsage},
                     {NID_subject_alt_name, std::string("DNS:") + kIntermediateSanDns}},
      .criticalUriSans = {},
  };
  auto cert = buildCertificate(spec, key->get(), root, rootKey);
  if (!cert) return cert.error();
  return CaCertAndKey{std::move(cert.value()), std::move(key.value())};
}

}  // namespace weft::ca
