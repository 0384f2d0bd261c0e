#include "xds/workload_certificate.h"

#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::xds {

std::string WorkloadCertificate::leafAndIntermediatesPem() const {
  // The root is the peer's to have already; sending it would only cost bytes.
  std::string out;
  size_t count = chainPem.size() > 1 ? chainPem.size() - 1 : chainPem.size();
  for (size_t i = 0; i < count; ++i) out += chainPem[i];
  return out;
}

Result<WorkloadCertificate> acceptIssuedChain(const std::string& identity, std::vector<std::string> chainPem, std::string keyPem) {
  if (chainPem.size() < 2) return makeError("the CA answered a chain of {} certificate(s); a leaf and its root are needed", chainPem.size());
  auto leaf = tls::parseCertificates(chainPem.front());
  if (!leaf || leaf->size() != 1) return makeError("the CA's leaf certificate does not parse");
  for (size_t i = 1; i < chainPem.size(); ++i) {
    auto parsed = tls::parseCertificates(chainPem[i]);
    if (!parsed || parsed->empty()) return makeError("certificate {} of the CA's chain does not parse", i + 1);
  }
  X509* cert = (*leaf)[0].get();
  auto sans = tls::uriSans(cert);
  if (sans.size() != 1 || sans[0] != identity) {
    return makeError("the CA issued a certificate for {}, not {}", sans.empty() ? "(no URI SAN)" : sans[0], identity);
  }
  auto key = tls::parsePrivateKey(keyPem);
  if (!key || !tls::keyMatchesCertificate(cert, key->get())) return makeError("the CA's certificate is not for the key we sent");
  WorkloadCertificate out;
  out.identity = identity;
  out.notBefore = tls::notBefore(cert);
  out.notAfter = tls::notAfter(cert);
  out.chainPem = std::move(chainPem);
  out.keyPem = std::move(keyPem);
  return out;
}

}  // namespace weft::xds
