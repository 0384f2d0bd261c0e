#include "ca/signing_ca.h"

#include <gtest/gtest.h>

#include "ca/test_ca.h"
#include "tls/x509_info.h"

namespace weft::ca {
namespace {

using testing::TestPki;
using testing::testEpoch;

bool isCritical(X509* cert, int nid) {
  int at = X509_get_ext_by_NID(cert, nid, -1);
  return at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, at)) == 1;
}

struct BasicConstraintsView {
  bool ca;
  long pathlen;  // -1 when absent
};

BasicConstraintsView basicConstraints(X509* cert) {
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr));
  EXPECT_NE(bc, nullptr);
  BasicConstraintsView view{bc->ca != 0, bc->pathlen ? ASN1_INTEGER_get(bc->pathlen) : -1};
  BASIC_CONSTRAINTS_free(bc);
  return view;
}

constexpr uint32_t kCaUsage = KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION | KU_KEY_ENCIPHERMENT | KU_KEY_CERT_SIGN;

TEST(RootCa, HasIstioRootContents) {
  auto pki = TestPki::make();
  X509* root = pki.root.cert.get();
  EXPECT_EQ(tls::distinguishedName(X509_get_subject_name(root)), "O=Acme LLC., CN=Acme LLC Root CA");
  EXPECT_EQ(tls::distinguishedName(X509_get_issuer_name(root)), "O=Acme LLC., CN=Acme LLC Root CA");
  EXPECT_EQ(X509_get_version(root), X509_VERSION_3);
  EXPECT_TRUE(isCritical(root, NID_basic_constraints));
  EXPECT_TRUE(basicConstraints(root).ca);
  EXPECT_EQ(basicConstraints(root).pathlen, -1);
  EXPECT_TRUE(isCritical(root, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(root), kCaUsage);
  EXPECT_NE(X509_get0_subject_key_id(root), nullptr);
  EXPECT_TRUE(tls::isSelfSigned(root));
  EXPECT_EQ(X509_get_signature_nid(root), NID_ecdsa_with_SHA256);
  EXPECT_EQ(tls::notBefore(root), testEpoch());
  EXPECT_EQ(tls::notAfter(root), testEpoch() + std::chrono::days(3650));
}

TEST(RootCa, DefaultsToRsa4096WithSha256) {
  auto root = makeRootCa({.org = "Istio", .cn = "Root CA"}, fixedClock(testEpoch()));
  ASSERT_TRUE(root) << root.error().message;
  EXPECT_EQ(tls::describeKey(root->key.get()), "RSA 4096");
  EXPECT_EQ(X509_get_signature_nid(root->cert.get()), NID_sha256WithRSAEncryption);
}

TEST(RootCa, RefusesBadOptions) {
  auto clock = fixedClock(testEpoch());
  EXPECT_EQ(makeRootCa({.org = "", .cn = "x", .key = KeySpec::ecdsaP256()}, clock).error().message, "--org must not be empty");
  EXPECT_FALSE(makeRootCa({.org = "o", .cn = "x", .days = 0, .key = KeySpec::ecdsaP256()}, clock));
  EXPECT_FALSE(makeRootCa({.org = "o", .cn = "x", .key = KeySpec::rsa(1024)}, clock));
}

TEST(IntermediateCa, HasIstioIntermediateContents) {
  auto pki = TestPki::make();
  X509* inter = pki.intermediate.cert.get();
  EXPECT_EQ(tls::distinguishedName(X509_get_subject_name(inter)), "O=Acme LLC., CN=Acme LLC Intermediate CA, L=istiocluster");
  EXPECT_EQ(tls::distinguishedName(X509_get_issuer_name(inter)), "O=Acme LLC., CN=Acme LLC Root CA");
  EXPECT_TRUE(isCritical(inter, NID_basic_constraints));
  EXPECT_TRUE(basicConstraints(inter).ca);
  EXPECT_EQ(basicConstraints(inter).pathlen, 0);
  EXPECT_TRUE(isCritical(inter, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(inter), kCaUsage);
  EXPECT_EQ(tls::dnsSans(inter), std::vector<std::string>{kIntermediateSanDns});
  EXPECT_FALSE(isCritical(inter, NID_subject_alt_name));
  ASSERT_NE(X509_get0_authority_key_id(inter), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(inter), X509_get0_subject_key_id(pki.root.cert.get())), 0);
  EXPECT_TRUE(tls::isSignedBy(inter, pki.root.cert.get()));
  EXPECT_NE(tls::serialHex(inter), tls::serialHex(pki.root.cert.get()));
}

TEST(IntermediateCa, RefusesUnusableRoot) {
  auto pki = TestPki::make();
  auto other = TestPki::make();
  auto clock = fixedClock(testEpoch());
  CaCertOptions options{.org = "o", .cn = "c", .key = KeySpec::ecdsaP256()};
  EXPECT_EQ(makeIntermediateCa(options, "c1", pki.root.cert.get(), other.root.key.get(), clock).error().message,
            "the root key does not match the root certificate");
  auto late = fixedClock(testEpoch() + std::chrono::days(4000));
  EXPECT_EQ(makeIntermediateCa(options, "c1", pki.root.cert.get(), pki.root.key.get(), late).error().message,
            "the root certificate expired");
  EXPECT_FALSE(makeIntermediateCa(options, "", pki.root.cert.get(), pki.root.key.get(), clock));
}

}  // namespace
}  // namespace weft::ca
