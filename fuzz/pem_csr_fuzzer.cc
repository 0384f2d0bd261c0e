// Fuzzes everything that decodes certificate material from outside: PEM blocks,
// certificates, private keys, CSRs (PEM and DER) and the CA's CSR checks.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ca/cert_report.h"
#include "ca/csr.h"
#include "tls/pem.h"
#include "tls/spiffe_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static const auto identity = *weft::tls::SpiffeId::make("acmellc.local", "default", "httpbin");

  if (auto csr = weft::tls::parseCsr(input)) (void)weft::ca::checkCsr(csr->get(), identity);
  (void)weft::tls::parsePrivateKey(input);
  (void)weft::ca::describeCertificates(input, weft::SystemTime{});
  (void)weft::tls::SpiffeId::parse(input);
  return 0;
}
