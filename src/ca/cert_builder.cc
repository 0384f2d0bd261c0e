#include "ca/cert_builder.h"

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "tls/openssl_error.h"

namespace weft::ca {
namespace {

using tls::drainOpensslErrors;

// 159 random bits: positive, at most 20 octets (RFC 5280 4.1.2.2), as openssl -CAcreateserial.
Result<tls::Asn1IntegerPtr> randomSerial() {
  tls::BignumPtr bn(BN_new());
  if (!bn || BN_rand(bn.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
    return makeError("serial number: {}", drainOpensslErrors());
  }
  if (BN_is_zero(bn.get())) BN_one(bn.get());
  tls::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return makeError("serial number: {}", drainOpensslErrors());
  return serial;
}

Status setName(X509* cert, const std::vector<NameEntry>& entries) {
  X509_NAME* name = X509_get_subject_name(cert);
  for (const auto& entry : entries) {
    if (X509_NAME_add_entry_by_txt(name, entry.field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(entry.value.data()),
                                   static_cast<int>(entry.value.size()), -1, 0) != 1) {
      return makeError("subject {}=\"{}\": {}", entry.field, entry.value, drainOpensslErrors());
    }
  }
  return {};
}

Status addUriSans(X509* cert, const std::vector<std::string>& uris) {
  tls::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  for (const auto& uri : uris) {
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    if (!name || !value || ASN1_STRING_set(value, uri.data(), static_cast<int>(uri.size())) != 1) {
      GENERAL_NAME_free(name);
      ASN1_IA5STRING_free(value);
      return makeError("subjectAltName: {}", drainOpensslErrors());
    }
    GENERAL_NAME_set0_value(name, GEN_URI, value);
    sk_GENERAL_NAME_push(names.get(), name);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), /*crit=*/1, X509V3_ADD_DEFAULT) != 1) {
    return makeError("subjectAltName: {}", drainOpensslErrors());
  }
  return {};
}

}  // namespace

Result<tls::X509Ptr> buildCertificate(const CertificateSpec& spec, EVP_PKEY* subjectKey, X509* issuer, EVP_PKEY* issuerKey) {
  tls::X509Ptr cert(X509_new());
  if (!cert) return makeError("certificate: {}", drainOpensslErrors());
  X509_set_version(cert.get(), X509_VERSION_3);

  auto serial = randomSerial();
  if (!serial) return serial.error();
  X509_set_serialNumber(cert.get(), serial->get());

  auto seconds = [](SystemTime t) { return std::chrono::system_clock::to_time_t(t); };
  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), seconds(spec.notBefore)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), seconds(spec.notAfter))) {
    return makeError("validity: {}", drainOpensslErrors());
  }
  WEFT_TRY(setName(cert.get(), spec.subject));
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(cert.get()));
  if (X509_set_pubkey(cert.get(), subjectKey) != 1) return makeError("public key: {}", drainOpensslErrors());

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& extension : spec.extensions) {
    tls::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, extension.nid, extension.value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) {
      return makeError("extension {}=\"{}\": {}", OBJ_nid2ln(extension.nid), extension.value, drainOpensslErrors());
    }
  }
  if (!spec.criticalUriSans.empty()) WEFT_TRY(addUriSans(cert.get(), spec.criticalUriSans));

  // EdDSA signs the message itself and takes no separate digest.
  const EVP_MD* digest = EVP_PKEY_get_base_id(issuerKey) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), issuerKey, digest) <= 0) return makeError("signing: {}", drainOpensslErrors());
  return cert;
}

}  // namespace weft::ca
