#include "ca/ca_bundle.h"

#include <gtest/gtest.h>

#include "base/file_io.h"
#include "ca/cert_builder.h"
#include "ca/test_ca.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::ca {
namespace {

using testing::TestPki;
using testing::testEpoch;

Clock soon() { return fixedClock(testEpoch() + std::chrono::hours(1)); }

class CaBundleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::make()); }
  static void TearDownTestSuite() { delete pki_; }
  static TestPki* pki_;
};
TestPki* CaBundleTest::pki_ = nullptr;

TEST_F(CaBundleTest, LoadsIstioLayout) {
  auto bundle = loadCaFiles(pki_->istioFiles(), "cacerts", soon());
  ASSERT_TRUE(bundle) << bundle.error().message;
  EXPECT_EQ(bundle->layout, CaLayout::kIstio);
  ASSERT_EQ(bundle->chain.size(), 2u);
  EXPECT_EQ(X509_cmp(bundle->chain[0].get(), pki_->intermediate.cert.get()), 0);
  EXPECT_EQ(X509_cmp(bundle->root(), pki_->root.cert.get()), 0);
  EXPECT_EQ(bundle->chainPem(), pki_->istioFiles().at("cert-chain.pem"));
}

TEST_F(CaBundleTest, LoadsKubernetesTlsLayout) {
  auto bundle = loadCaFiles(pki_->kubernetesFiles(), "cacerts", soon());
  ASSERT_TRUE(bundle) << bundle.error().message;
  EXPECT_EQ(bundle->layout, CaLayout::kKubernetesTls);
  EXPECT_EQ(bundle->chain.size(), 2u);
}

TEST_F(CaBundleTest, ToleratesChainWithoutSigningCertOrRoot) {
  auto files = pki_->istioFiles();
  files["cert-chain.pem"] = files["root-cert.pem"];
  auto bundle = loadCaFiles(files, "cacerts", soon());
  ASSERT_TRUE(bundle) << bundle.error().message;
  EXPECT_EQ(bundle->chain.size(), 2u);
  files["cert-chain.pem"] = files["ca-cert.pem"];
  EXPECT_TRUE(loadCaFiles(files, "cacerts", soon()));
}

TEST_F(CaBundleTest, RootCanSignDirectly) {
  CaFiles files{{"ca-cert.pem", tls::toPem(pki_->root.cert.get())},
                {"ca-key.pem", tls::privateKeyToPem(pki_->root.key.get())},
                {"root-cert.pem", tls::toPem(pki_->root.cert.get())}};
  auto bundle = loadCaFiles(files, "cacerts", soon());
  ASSERT_TRUE(bundle) << bundle.error().message;
  EXPECT_EQ(bundle->chain.size(), 1u);
}

struct Refusal {
  const char* name;
  std::function<void(CaFiles&)> corrupt;
  const char* expected;
};

TEST_F(CaBundleTest, RefusesBadPluginCa) {
  auto other = TestPki::make();
  std::vector<Refusal> cases{
      {"missing key", [](CaFiles& f) { f.erase("ca-key.pem"); }, "cacerts: ca-key.pem: missing"},
      {"missing root", [](CaFiles& f) { f.erase("root-cert.pem"); }, "cacerts: root-cert.pem: missing"},
      {"key of another CA", [&](CaFiles& f) { f["ca-key.pem"] = tls::privateKeyToPem(other.intermediate.key.get()); },
       "cacerts: ca-key.pem does not match ca-cert.pem"},
      {"garbage cert", [](CaFiles& f) { f["ca-cert.pem"] = "hello"; },
       "cacerts: ca-cert.pem: no PEM data found (expected -----BEGIN ...----- lines)"},
      {"garbage key", [](CaFiles& f) { f["ca-key.pem"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"; },
       "cacerts: ca-key.pem: malformed private key DER"},
      {"two roots", [](CaFiles& f) { f["root-cert.pem"] += f["root-cert.pem"]; },
       "cacerts: root-cert.pem: expected one root certificate, found 2"},
      {"root of another PKI", [&](CaFiles& f) { f["root-cert.pem"] = tls::toPem(other.root.cert.get()); f.erase("cert-chain.pem"); },
       "cacerts: the chain does not verify to the root"},
      {"intermediate as root", [](CaFiles& f) { f["root-cert.pem"] = f["ca-cert.pem"]; },
       "cacerts: root-cert.pem: the root certificate is not self-signed"},
  };
  for (const auto& c : cases) {
    auto files = pki_->istioFiles();
    c.corrupt(files);
    auto loaded = loadCaFiles(files, "cacerts", soon());
    ASSERT_FALSE(loaded) << c.name;
    EXPECT_EQ(loaded.error().message.rfind(c.expected, 0), 0u) << c.name << ": " << loaded.error().message;
  }
}

TEST_F(CaBundleTest, RefusesNonCaSigningCertificate) {
  // A self-signed end-entity certificate: valid chain of one, but not allowed to sign.
  auto key = generateKey(KeySpec::ecdsaP256());
  CertificateSpec spec{.subject = {{"CN", "leaf"}}, .notBefore = testEpoch(), .notAfter = testEpoch() + std::chrono::days(1),
                       .extensions = {{NID_basic_constraints, "critical,CA:FALSE"}}, .criticalUriSans = {}};
  auto leaf = buildCertificate(spec, key->get(), nullptr, key->get());
  ASSERT_TRUE(leaf);
  CaFiles files{{"ca-cert.pem", tls::toPem(leaf->get())}, {"ca-key.pem", tls::privateKeyToPem(key->get())},
                {"root-cert.pem", tls::toPem(leaf->get())}};
  auto loaded = loadCaFiles(files, "cacerts", soon());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message.rfind("cacerts: ca-cert.pem: not a CA certificate", 0), 0u) << loaded.error().message;
}

TEST_F(CaBundleTest, RefusesExpiredAndNotYetValid) {
  auto late = fixedClock(testEpoch() + std::chrono::days(3651));
  auto expired = loadCaFiles(pki_->istioFiles(), "cacerts", late);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().message, "cacerts: ca-cert.pem: certificate expired on 2035-12-30 00:00:00 UTC");
  auto early = fixedClock(testEpoch() - std::chrono::hours(1));
  auto notYet = loadCaFiles(pki_->istioFiles(), "cacerts", early);
  ASSERT_FALSE(notYet);
  EXPECT_NE(notYet.error().message.find("not valid until 2026-01-01 00:00:00 UTC"), std::string::npos) << notYet.error().message;
}

TEST_F(CaBundleTest, LoadsDirectoryAndNamesIt) {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("weft-cabundle-{}", ::getpid());
  std::filesystem::remove_all(dir);
  auto missing = loadCaDirectory(dir, soon());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, dir.string() + ": not a directory");
  std::filesystem::create_directories(dir);
  auto empty = loadCaDirectory(dir, soon());
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("no CA files"), std::string::npos);
  for (const auto& [name, contents] : pki_->istioFiles()) ASSERT_TRUE(writeFileAtomically(dir / name, contents));
  auto loaded = loadCaDirectory(dir, soon());
  EXPECT_TRUE(loaded) << loaded.error().message;
  std::filesystem::remove_all(dir);
}

TEST(SelfSignedCa, MatchesIstiodDefaults) {
  auto bundle = makeSelfSignedCa("acmellc.local", fixedClock(testEpoch()));
  ASSERT_TRUE(bundle) << bundle.error().message;
  EXPECT_EQ(bundle->layout, CaLayout::kSelfSigned);
  EXPECT_EQ(tls::distinguishedName(X509_get_subject_name(bundle->root())), "O=acmellc.local");
  EXPECT_EQ(tls::describeKey(bundle->signingKey.get()), "RSA 2048");
  EXPECT_EQ(tls::notAfter(bundle->root()), testEpoch() + std::chrono::days(3650));
  auto reloaded = loadCaFiles(toIstioFiles(*bundle), "istio-ca-secret", fixedClock(testEpoch()));
  EXPECT_TRUE(reloaded) << reloaded.error().message;
  EXPECT_FALSE(makeSelfSignedCa("Not A Domain", fixedClock(testEpoch())));
}

}  // namespace
}  // namespace weft::ca
