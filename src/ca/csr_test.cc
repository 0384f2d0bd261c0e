#include "ca/csr.h"

#include <openssl/rsa.h>

#include <gtest/gtest.h>

#include "ca/key_spec.h"
#include "tls/openssl_error.h"
#include "tls/pem.h"

namespace weft::ca {
namespace {

tls::SpiffeId httpbin() { return *tls::SpiffeId::make("acmellc.local", "default", "httpbin"); }

// A CSR with an arbitrary SAN extension value, for the refusals makeCsr never produces.
tls::X509ReqPtr csrWithSan(EVP_PKEY* key, const char* san) {
  tls::X509ReqPtr csr(X509_REQ_new());
  X509_REQ_set_pubkey(csr.get(), key);
  if (san != nullptr) {
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san);
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(csr.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  X509_REQ_sign(csr.get(), key, EVP_sha256());
  return csr;
}

class CsrTest : public ::testing::Test {
 protected:
  tls::EvpPkeyPtr key_ = std::move(generateKey(KeySpec::ecdsaP256()).value());
};

TEST_F(CsrTest, MadeCsrPassesCheck) {
  auto csr = makeCsr(key_.get(), httpbin());
  ASSERT_TRUE(csr);
  auto publicKey = checkCsr(csr->get(), httpbin());
  ASSERT_TRUE(publicKey) << publicKey.error().message;
  EXPECT_EQ(EVP_PKEY_eq(publicKey->get(), key_.get()), 1);
}

TEST_F(CsrTest, CsrWithoutSanIsAccepted) {
  auto csr = csrWithSan(key_.get(), nullptr);
  EXPECT_TRUE(checkCsr(csr.get(), httpbin()));
}

TEST_F(CsrTest, RefusesOtherIdentity) {
  auto other = *tls::SpiffeId::make("acmellc.local", "default", "curl");
  auto csr = makeCsr(key_.get(), other);
  auto result = checkCsr(csr->get(), httpbin());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message,
            "the CSR asks for \"spiffe://acmellc.local/ns/default/sa/curl\" but the caller's identity is "
            "\"spiffe://acmellc.local/ns/default/sa/httpbin\"");
}

TEST_F(CsrTest, RefusesSeveralSans) {
  auto csr = csrWithSan(key_.get(), "URI:spiffe://acmellc.local/ns/default/sa/httpbin,URI:spiffe://acmellc.local/ns/default/sa/x");
  EXPECT_EQ(checkCsr(csr.get(), httpbin()).error().message,
            "the CSR carries 2 SANs; exactly one, spiffe://acmellc.local/ns/default/sa/httpbin, is allowed");
}

TEST_F(CsrTest, RefusesNonUriAndNonSpiffeSans) {
  auto dns = csrWithSan(key_.get(), "DNS:httpbin.default.svc");
  EXPECT_EQ(checkCsr(dns.get(), httpbin()).error().message,
            "the CSR's SAN is a DNS name; only the URI spiffe://acmellc.local/ns/default/sa/httpbin is allowed");
  auto https = csrWithSan(key_.get(), "URI:https://acmellc.local/ns/default/sa/httpbin");
  EXPECT_EQ(checkCsr(https.get(), httpbin()).error().message,
            "the CSR's SAN \"https://acmellc.local/ns/default/sa/httpbin\" is not a spiffe:// URI");
}

TEST_F(CsrTest, RefusesBadSignature) {
  auto csr = makeCsr(key_.get(), httpbin());
  // Swap in another public key after signing: the signature no longer matches.
  auto other = generateKey(KeySpec::ecdsaP256());
  X509_REQ_set_pubkey(csr->get(), other->get());
  // Re-encoding drops OpenSSL's cached DER so the tampered request is what gets verified.
  auto reparsed = tls::parseCsr(tls::toPem(csr->get()));
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(checkCsr(reparsed->get(), httpbin()).error().message,
            "the CSR's signature does not verify (it was not signed by the key it carries)");
}

TEST_F(CsrTest, RefusesWeakKeys) {
  tls::EvpPkeyPtr weak(EVP_RSA_gen(1024));
  ASSERT_TRUE(weak);
  auto csr = makeCsr(weak.get(), httpbin());
  ASSERT_TRUE(csr);
  EXPECT_EQ(checkCsr(csr->get(), httpbin()).error().message,
            "the CSR's key: RSA key of 1024 bits is too weak (at least 2048 required)");
  tls::EvpPkeyPtr secp256k1(EVP_EC_gen("secp256k1"));
  auto odd = makeCsr(secp256k1.get(), httpbin());
  auto refused = checkCsr(odd->get(), httpbin());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("use P-256 or P-384"), std::string::npos) << refused.error().message;
}

TEST_F(CsrTest, Rsa2048IsAccepted) {
  auto rsa = generateKey(KeySpec::rsa(2048));
  auto csr = makeCsr(rsa->get(), httpbin());
  EXPECT_TRUE(checkCsr(csr->get(), httpbin()));
}

}  // namespace
}  // namespace weft::ca
