// Workload certificate issuance: what weftd pays per CreateCertificate, against the direct
// path (OpenSSL signing a prepared certificate, nothing else) measured in the same run.
#include <benchmark/benchmark.h>

#include <memory>
#include <stdexcept>

#include "ca/csr.h"
#include "ca/signing_ca.h"
#include "ca/workload_issuer.h"
#include "tls/pem.h"

namespace weft::ca {
namespace {

enum CaKind { kCaRsa4096 = 0, kCaEcP256 = 1 };
enum LeafKind { kLeafEcP256 = 0, kLeafRsa2048 = 1 };

template <class T>
T must(Result<T> result) {
  if (!result) throw std::runtime_error(result.error().message);
  return std::move(result.value());
}

struct Fixture {
  std::shared_ptr<CaBundle> bundles[2];
  std::string csrs[2];
  tls::SpiffeId identity = must(tls::SpiffeId::make("acmellc.local", "default", "httpbin"));

  Fixture() {
    for (int kind : {kCaRsa4096, kCaEcP256}) {
      KeySpec key = kind == kCaRsa4096 ? KeySpec::rsa(4096) : KeySpec::ecdsaP256();
      auto root = must(makeRootCa({.org = "Acme LLC.", .cn = "Root", .key = key}, systemClock()));
      auto inter = must(makeIntermediateCa({.org = "Acme LLC.", .cn = "Intermediate", .key = key}, "bench", root.cert.get(),
                                           root.key.get(), systemClock()));
      std::string interPem = tls::toPem(inter.cert.get()), rootPem = tls::toPem(root.cert.get());
      CaFiles files{{"ca-cert.pem", interPem},
                    {"ca-key.pem", tls::privateKeyToPem(inter.key.get())},
                    {"cert-chain.pem", interPem + rootPem},
                    {"root-cert.pem", rootPem}};
      bundles[kind] = std::make_shared<CaBundle>(must(loadCaFiles(files, "bench", systemClock())));
    }
    for (int kind : {kLeafEcP256, kLeafRsa2048}) {
      auto key = must(generateKey(kind == kLeafEcP256 ? KeySpec::ecdsaP256() : KeySpec::rsa(2048)));
      csrs[kind] = tls::toPem(must(makeCsr(key.get(), identity)).get());
    }
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

const char* caName(int64_t kind) { return kind == kCaRsa4096 ? "ca=RSA4096" : "ca=ECP256"; }

void BM_IssueWorkloadCert(benchmark::State& state) {
  auto& f = fixture();
  WorkloadIssuer issuer(f.bundles[state.range(0)], systemClock());
  WorkloadCertRequest request{.csr = f.csrs[state.range(1)], .identity = f.identity, .ttl = kDefaultWorkloadTtl};
  for (auto _ : state) {
    auto issued = issuer.issue(request);
    if (!issued) state.SkipWithError(issued.error().message.c_str());
    benchmark::DoNotOptimize(issued);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(fmt::format("{} leaf={}", caName(state.range(0)), state.range(1) == kLeafEcP256 ? "ECP256" : "RSA2048"));
}
BENCHMARK(BM_IssueWorkloadCert)
    ->ArgsProduct({{kCaRsa4096, kCaEcP256}, {kLeafEcP256, kLeafRsa2048}})
    ->Unit(benchmark::kMicrosecond);

// The floor: re-sign one already-built leaf with the CA key. No CSR parsing, no checks,
// no extension building, no encoding of the chain.
void BM_DirectSignFloor(benchmark::State& state) {
  auto& f = fixture();
  const CaBundle& ca = *f.bundles[state.range(0)];
  WorkloadIssuer issuer(f.bundles[state.range(0)], systemClock());
  auto issued = issuer.issue({.csr = f.csrs[kLeafEcP256], .identity = f.identity});
  if (!issued) {
    state.SkipWithError(issued.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(X509_sign(issued->leaf.get(), ca.signingKey.get(), EVP_sha256()));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(caName(state.range(0)));
}
BENCHMARK(BM_DirectSignFloor)->Arg(kCaRsa4096)->Arg(kCaEcP256)->Unit(benchmark::kMicrosecond);

// The CSR half of issuance alone: decode and check (signature, key strength, SAN).
void BM_ParseAndCheckCsr(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) {
    auto csr = tls::parseCsr(f.csrs[state.range(0)]);
    auto key = checkCsr(csr->get(), f.identity);
    if (!key) state.SkipWithError(key.error().message.c_str());
    benchmark::DoNotOptimize(key);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == kLeafEcP256 ? "leaf=ECP256" : "leaf=RSA2048");
}
BENCHMARK(BM_ParseAndCheckCsr)->Arg(kLeafEcP256)->Arg(kLeafRsa2048)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace weft::ca

BENCHMARK_MAIN();
