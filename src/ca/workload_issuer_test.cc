#include "ca/workload_issuer.h"

#include <openssl/x509_vfy.h>

#include <gtest/gtest.h>

#include "ca/csr.h"
#include "ca/key_spec.h"
#include "ca/test_ca.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::ca {
namespace {

using testing::TestPki;
using testing::testEpoch;
using namespace std::chrono_literals;

class WorkloadIssuerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::make(/*days=*/365)); }
  static void TearDownTestSuite() { delete pki_; }

  SystemTime now_ = testEpoch() + 10 * 24h;
  WorkloadIssuer issuer_{std::make_shared<CaBundle>(pki_->bundle()), fixedClock(now_)};
  tls::SpiffeId identity_ = *tls::SpiffeId::make("acmellc.local", "default", "httpbin");

  std::string csrFor(const tls::SpiffeId& id, KeySpec spec = KeySpec::ecdsaP256()) {
    auto key = generateKey(spec);
    return tls::toPem(makeCsr(key->get(), id)->get());
  }
  static TestPki* pki_;
};
TestPki* WorkloadIssuerTest::pki_ = nullptr;

int criticalOf(X509* cert, int nid) {
  int at = X509_get_ext_by_NID(cert, nid, -1);
  return at < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(cert, at));
}

TEST_F(WorkloadIssuerTest, IssuesExactlyIstiosWorkloadCertificate) {
  auto issued = issuer_.issue({.csr = csrFor(identity_), .identity = identity_, .ttl = 0s});
  ASSERT_TRUE(issued) << issued.error().message;
  X509* leaf = issued->leaf.get();

  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(leaf)), 0);
  EXPECT_EQ(tls::distinguishedName(X509_get_issuer_name(leaf)), "O=Acme LLC., CN=Acme LLC Intermediate CA, L=istiocluster");
  EXPECT_EQ(tls::uriSans(leaf), std::vector<std::string>{"spiffe://acmellc.local/ns/default/sa/httpbin"});
  EXPECT_TRUE(tls::dnsSans(leaf).empty());
  EXPECT_EQ(criticalOf(leaf, NID_subject_alt_name), 1);
  EXPECT_EQ(criticalOf(leaf, NID_key_usage), 1);
  EXPECT_EQ(X509_get_key_usage(leaf), uint32_t{KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT});
  EXPECT_EQ(criticalOf(leaf, NID_ext_key_usage), 0);
  EXPECT_EQ(X509_get_extended_key_usage(leaf), uint32_t{XKU_SSL_SERVER | XKU_SSL_CLIENT});
  EXPECT_EQ(criticalOf(leaf, NID_basic_constraints), 1);
  EXPECT_FALSE(tls::isCa(leaf));
  EXPECT_EQ(criticalOf(leaf, NID_authority_key_identifier), 0);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf), X509_get0_subject_key_id(pki_->intermediate.cert.get())), 0);
  EXPECT_EQ(criticalOf(leaf, NID_subject_key_identifier), -1) << "Istio's leaves carry no SKI";
  EXPECT_EQ(X509_get_ext_count(leaf), 5);
  EXPECT_EQ(tls::notBefore(leaf), now_ - 2min);
  EXPECT_EQ(tls::notAfter(leaf), now_ + 24h);
  EXPECT_EQ(tls::describeKey(X509_get0_pubkey(leaf)), "ECDSA P-256");
}

TEST_F(WorkloadIssuerTest, ChainIsLeafIntermediateRootAndVerifies) {
  auto issued = issuer_.issue({.csr = csrFor(identity_), .identity = identity_, .ttl = 1h});
  ASSERT_TRUE(issued);
  auto chain = tls::parseCertificates(issued->certChainPem);
  ASSERT_TRUE(chain);
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ(X509_cmp((*chain)[0].get(), issued->leaf.get()), 0);
  EXPECT_EQ(X509_cmp((*chain)[1].get(), pki_->intermediate.cert.get()), 0);
  EXPECT_EQ(X509_cmp((*chain)[2].get(), pki_->root.cert.get()), 0);
  EXPECT_EQ(issued->rootPem, tls::toPem(pki_->root.cert.get()));

  tls::X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), pki_->root.cert.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  sk_X509_push(untrusted, pki_->intermediate.cert.get());
  tls::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), issued->leaf.get(), untrusted);
  X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(now_));
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1) << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  sk_X509_free(untrusted);
}

TEST_F(WorkloadIssuerTest, HonoursTtlUpToNinetyDays) {
  auto issued = issuer_.issue({.csr = csrFor(identity_), .identity = identity_, .ttl = 90 * 24h});
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_EQ(tls::notAfter(issued->leaf.get()), now_ + 90 * 24h);
  auto refused = issuer_.issue({.csr = csrFor(identity_), .identity = identity_, .ttl = 90 * 24h + 1s});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "requested TTL 2160h1s exceeds the maximum of 2160h");
}

TEST_F(WorkloadIssuerTest, NeverOutlivesTheCa) {
  WorkloadIssuer late{std::make_shared<CaBundle>(pki_->bundle()), fixedClock(testEpoch() + 360 * 24h)};
  auto issued = late.issue({.csr = csrFor(identity_), .identity = identity_, .ttl = 30 * 24h});
  ASSERT_TRUE(issued);
  EXPECT_EQ(tls::notAfter(issued->leaf.get()), tls::notAfter(pki_->intermediate.cert.get()));
  WorkloadIssuer expired{std::make_shared<CaBundle>(pki_->bundle()), fixedClock(testEpoch() + 400 * 24h)};
  EXPECT_EQ(expired.issue({.csr = csrFor(identity_), .identity = identity_}).error().message,
            "the signing CA certificate has expired");
}

TEST_F(WorkloadIssuerTest, IssuesForRsa2048Keys) {
  auto issued = issuer_.issue({.csr = csrFor(identity_, KeySpec::rsa(2048)), .identity = identity_});
  ASSERT_TRUE(issued);
  EXPECT_EQ(tls::describeKey(X509_get0_pubkey(issued->leaf.get())), "RSA 2048");
}

TEST_F(WorkloadIssuerTest, RefusesCsrForAnotherIdentityAndGarbage) {
  auto other = *tls::SpiffeId::make("acmellc.local", "kube-system", "admin");
  EXPECT_FALSE(issuer_.issue({.csr = csrFor(other), .identity = identity_}));
  auto garbage = issuer_.issue({.csr = "not a csr", .identity = identity_});
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().message, "no PEM data found (expected -----BEGIN ...----- lines)");
  auto der = issuer_.issue({.csr = std::string("\x30\x03\x02\x01\x00", 5), .identity = identity_});
  ASSERT_FALSE(der);
  EXPECT_EQ(der.error().message.rfind("malformed certificate signing request DER", 0), 0u) << der.error().message;
}

TEST_F(WorkloadIssuerTest, SerialsAreUnique) {
  auto a = issuer_.issue({.csr = csrFor(identity_), .identity = identity_});
  auto b = issuer_.issue({.csr = csrFor(identity_), .identity = identity_});
  EXPECT_NE(tls::serialHex(a->leaf.get()), tls::serialHex(b->leaf.get()));
}

}  // namespace
}  // namespace weft::ca
