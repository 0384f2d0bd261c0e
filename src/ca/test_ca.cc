#include "ca/test_ca.h"

#include <stdexcept>

#include "tls/pem.h"

namespace weft::ca::testing {

TestPki TestPki::make(int days, SystemTime at) {
  auto clock = fixedClock(at);
  auto root = makeRootCa({.org = "Acme LLC.", .cn = "Acme LLC Root CA", .days = days, .key = KeySpec::ecdsaP256()}, clock);
  if (!root) throw std::runtime_error(root.error().message);
  auto intermediate = makeIntermediateCa(
      {.org = "Acme LLC.", .cn = "Acme LLC Intermediate CA", .days = days, .key = KeySpec::ecdsaP256()}, "istiocluster",
      root->cert.get(), root->key.get(), clock);
  if (!intermediate) throw std::runtime_error(intermediate.error().message);
  return TestPki{std::move(root.value()), std::move(intermediate.value())};
}

CaFiles TestPki::istioFiles() const {
  std::string caCert = tls::toPem(intermediate.cert.get());
  std::string rootCert = tls::toPem(root.cert.get());
  return {{"ca-cert.pem", caCert},
          {"ca-key.pem", tls::privateKeyToPem(intermediate.key.get())},
          {"cert-chain.pem", caCert + rootCert},
          {"root-cert.pem", rootCert}};
}

CaFiles TestPki::kubernetesFiles() const {
  return {{"tls.crt", tls::toPem(intermediate.cert.get())},
          {"tls.key", tls::privateKeyToPem(intermediate.key.get())},
          {"ca.crt", tls::toPem(root.cert.get())}};
}

CaBundle TestPki::bundle() const {
  auto loaded = loadCaFiles(istioFiles(), "test", fixedClock(testEpoch() + std::chrono::hours(1)));
  if (!loaded) throw std::runtime_error(loaded.error().message);
  return std::move(loaded.value());
}

}  // namespace weft::ca::testing
