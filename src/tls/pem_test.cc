#include "tls/pem.h"

#include <openssl/pem.h>

#include <gtest/gtest.h>

#include "tls/x509_info.h"

namespace weft::tls {
namespace {

EvpPkeyPtr ecKey() { return EvpPkeyPtr(EVP_EC_gen("P-256")); }

X509Ptr selfSigned(EVP_PKEY* key, const char* cn) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_set_pubkey(cert.get(), key);
  X509_sign(cert.get(), key, EVP_sha256());
  return cert;
}

TEST(ParseCertificates, ReadsChainInOrder) {
  auto key = ecKey();
  auto a = selfSigned(key.get(), "a");
  auto b = selfSigned(key.get(), "b");
  auto certs = parseCertificates("leading text is ignored\n" + toPem(a.get()) + "\n" + toPem(b.get()));
  ASSERT_TRUE(certs) << certs.error().message;
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ(distinguishedName(X509_get_subject_name((*certs)[0].get())), "CN=a");
  EXPECT_EQ(distinguishedName(X509_get_subject_name((*certs)[1].get())), "CN=b");
}

TEST(ParseCertificates, RefusesGarbage) {
  auto key = ecKey();
  std::string good = toPem(selfSigned(key.get(), "a").get());
  struct Case {
    std::string input;
    std::string error;
  };
  std::vector<Case> cases{
      {"", "no PEM data found (expected -----BEGIN ...----- lines)"},
      {"just some words", "no PEM data found (expected -----BEGIN ...----- lines)"},
      {"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "PEM block 1: "},
      {good.substr(0, good.size() - 20), "PEM block 1: "},
      {"-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n", "certificate 1: malformed certificate DER: "},
      {toPem(selfSigned(key.get(), "a").get()) + privateKeyToPem(key.get()), "PEM block 2 is a PRIVATE KEY, expected a CERTIFICATE"},
  };
  for (const auto& c : cases) {
    auto certs = parseCertificates(c.input);
    ASSERT_FALSE(certs) << c.input;
    EXPECT_EQ(certs.error().message.rfind(c.error, 0), 0u) << "got: " << certs.error().message;
  }
}

TEST(ParseCertificates, RefusesTrailingDerBytes) {
  auto key = ecKey();
  std::string der = toDer(selfSigned(key.get(), "a").get()) + "xx";
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio(bio.get(), "CERTIFICATE", "", reinterpret_cast<const unsigned char*>(der.data()), static_cast<long>(der.size()));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto certs = parseCertificates(std::string(data, static_cast<size_t>(len)));
  ASSERT_FALSE(certs);
  EXPECT_EQ(certs.error().message, "certificate 1: certificate DER has 2 trailing bytes");
}

TEST(ParsePrivateKey, ReadsPkcs8AndTraditionalForms) {
  auto key = ecKey();
  auto parsed = parsePrivateKey(privateKeyToPem(key.get()));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(EVP_PKEY_eq(parsed->get(), key.get()), 1);

  BioPtr bio(BIO_new(BIO_s_mem()));
  // openssl ecparam -genkey writes EC PARAMETERS then EC PRIVATE KEY.
  BIO_puts(bio.get(), "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n");
  PEM_write_bio_PrivateKey_traditional(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto traditional = parsePrivateKey(std::string(data, static_cast<size_t>(len)));
  ASSERT_TRUE(traditional) << traditional.error().message;
  EXPECT_EQ(EVP_PKEY_eq(traditional->get(), key.get()), 1);
}

TEST(ParsePrivateKey, RefusesEncryptedTwoKeysAndCertificates) {
  auto key = ecKey();
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), EVP_aes_128_cbc(), nullptr, 0, nullptr, const_cast<char*>("pw"));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  EXPECT_EQ(parsePrivateKey(std::string(data, static_cast<size_t>(len))).error().message,
            "the private key is encrypted; Weft reads only unencrypted keys");
  std::string one = privateKeyToPem(key.get());
  EXPECT_EQ(parsePrivateKey(one + one).error().message, "expected exactly one private key, found 2");
  EXPECT_EQ(parsePrivateKey(toPem(selfSigned(key.get(), "a").get())).error().message,
            "PEM block is a CERTIFICATE, expected a PRIVATE KEY");
}

TEST(ParseCsr, ReadsPemAndDerRefusesOthers) {
  auto key = ecKey();
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key.get());
  X509_REQ_sign(req.get(), key.get(), EVP_sha256());
  std::string pem = toPem(req.get());
  EXPECT_TRUE(parseCsr(pem));
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  EXPECT_TRUE(parseCsr(std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len))));
  OPENSSL_free(der);
  EXPECT_EQ(parseCsr("").error().message, "the certificate signing request is empty");
  EXPECT_EQ(parseCsr(pem + pem).error().message, "expected exactly one CERTIFICATE REQUEST block, found 2 blocks");
  EXPECT_EQ(parseCsr(toPem(selfSigned(key.get(), "a").get())).error().message,
            "PEM block is a CERTIFICATE, expected a CERTIFICATE REQUEST");
  EXPECT_EQ(parseCsr(std::string("\x30\x82\xff", 3)).error().message.rfind("malformed certificate signing request DER", 0), 0u);
}

TEST(X509Info, DescribesKeys) {
  auto ec = ecKey();
  EXPECT_EQ(describeKey(ec.get()), "ECDSA P-256");
  EvpPkeyPtr p384(EVP_EC_gen("P-384"));
  EXPECT_EQ(describeKey(p384.get()), "ECDSA P-384");
  EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  EXPECT_EQ(describeKey(ed.get()), "ED25519");
}

}  // namespace
}  // namespace weft::tls
