#include "ca/cert_report.h"

#include <gtest/gtest.h>

#include "ca/csr.h"
#include "ca/key_spec.h"
#include "ca/test_ca.h"
#include "ca/workload_issuer.h"
#include "tls/pem.h"

namespace weft::ca {
namespace {

using testing::TestPki;
using testing::testEpoch;
using namespace std::chrono_literals;

TEST(CertReport, DescribesALeafChain) {
  auto pki = TestPki::make();
  WorkloadIssuer issuer{std::make_shared<CaBundle>(pki.bundle()), fixedClock(testEpoch())};
  auto id = *tls::SpiffeId::make("acmellc.local", "default", "httpbin");
  auto key = generateKey(KeySpec::ecdsaP256());
  auto issued = issuer.issue({.csr = tls::toPem(makeCsr(key->get(), id)->get()), .identity = id});
  ASSERT_TRUE(issued);
  auto report = describeCertificates(issued->certChainPem, testEpoch() + 1h);
  ASSERT_TRUE(report) << report.error().message;
  const std::string& text = *report;
  EXPECT_NE(text.find("Certificate 0 (leaf)\n  SPIFFE ID:  spiffe://acmellc.local/ns/default/sa/httpbin\n  Subject:    (empty)\n"
                      "  Issuer:     O=Acme LLC., CN=Acme LLC Intermediate CA, L=istiocluster\n"
                      "  Valid:      2025-12-31T23:58:00Z to 2026-01-02T00:00:00Z (expires in 23h)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Certificate 1 (intermediate CA)"), std::string::npos);
  EXPECT_NE(text.find("DNS SANs:   istiod.istio-system.svc"), std::string::npos);
  EXPECT_NE(text.find("Certificate 2 (root CA)"), std::string::npos);
  EXPECT_NE(text.find("  2: self-signed root\n  chain intact\n"), std::string::npos) << text;
}

TEST(CertReport, FlagsBrokenChainAndExpiry) {
  auto a = TestPki::make(30);
  auto b = TestPki::make(30);
  std::string pem = tls::toPem(a.intermediate.cert.get()) + tls::toPem(b.root.cert.get());
  auto report = describeCertificates(pem, testEpoch() + 31 * 24h);
  ASSERT_TRUE(report);
  EXPECT_NE(report->find("0 -> 1: NOT signed by the next certificate"), std::string::npos) << *report;
  EXPECT_NE(report->find("chain BROKEN"), std::string::npos);
  EXPECT_NE(report->find("EXPIRED 24h ago"), std::string::npos) << *report;
}

TEST(CertReport, RefusesNonCertificates) {
  EXPECT_FALSE(describeCertificates("garbage", testEpoch()));
  auto key = generateKey(KeySpec::ecdsaP256());
  auto keyOnly = describeCertificates(tls::privateKeyToPem(key->get()), testEpoch());
  ASSERT_FALSE(keyOnly);
  EXPECT_EQ(keyOnly.error().message, "PEM block 1 is a PRIVATE KEY, expected a CERTIFICATE");
}

}  // namespace
}  // namespace weft::ca
