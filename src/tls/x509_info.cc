#include "tls/x509_info.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>

#include <fmt/format.h>

#include <ctime>

#include "tls/openssl_error.h"

namespace weft::tls {
namespace {

std::vector<std::string> sansOfType(const X509* cert, int type) {
  std::vector<std::string> out;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != type) continue;
    const ASN1_IA5STRING* value = type == GEN_URI ? name->d.uniformResourceIdentifier : name->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
  }
  return out;
}

}  // namespace

std::string distinguishedName(const X509_NAME* name) {
  if (X509_NAME_entry_count(name) == 0) return "(empty)";
  BioPtr bio(BIO_new(BIO_s_mem()));
  unsigned long flags = (XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | ASN1_STRFLGS_RFC2253 | XN_FLAG_DUMP_UNKNOWN_FIELDS) &
                        ~ASN1_STRFLGS_ESC_MSB;
  X509_NAME_print_ex(bio.get(), name, 0, flags);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

SystemTime asn1TimeToSystemTime(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return SystemTime{};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

SystemTime notBefore(const X509* cert) { return asn1TimeToSystemTime(X509_get0_notBefore(cert)); }
SystemTime notAfter(const X509* cert) { return asn1TimeToSystemTime(X509_get0_notAfter(cert)); }

std::vector<std::string> uriSans(const X509* cert) { return sansOfType(cert, GEN_URI); }
std::vector<std::string> dnsSans(const X509* cert) { return sansOfType(cert, GEN_DNS); }

std::string describeKey(const EVP_PKEY* key) {
  // X509_get0_pubkey returns null for a certificate whose key does not decode.
  if (key == nullptr) return "(unreadable public key)";
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return fmt::format("RSA {}", EVP_PKEY_get_bits(key));
    case EVP_PKEY_EC: {
      char curve[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &len) != 1) {
        clearOpensslErrors();
        return "ECDSA (unknown curve)";
      }
      int nid = OBJ_txt2nid(curve);
      const char* nist = nid == NID_undef ? nullptr : EC_curve_nid2nist(nid);
      return fmt::format("ECDSA {}", nist ? nist : curve);
    }
    case EVP_PKEY_ED25519:
      return "ED25519";
    default:
      return OBJ_nid2sn(EVP_PKEY_get_base_id(key));
  }
}

bool isCa(X509* cert) { return X509_check_ca(cert) >= 1; }

bool keyMatchesCertificate(X509* cert, EVP_PKEY* key) {
  bool match = X509_check_private_key(cert, key) == 1;
  clearOpensslErrors();
  return match;
}

bool isSignedBy(X509* cert, X509* issuer) {
  if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) != 0) return false;
  EVP_PKEY* issuerKey = X509_get0_pubkey(issuer);
  bool ok = issuerKey != nullptr && X509_verify(cert, issuerKey) == 1;
  clearOpensslErrors();
  return ok;
}

bool isSelfSigned(X509* cert) { return isSignedBy(cert, cert); }

std::string serialHex(const X509* cert) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "?";
  char* hex = BN_bn2hex(bn.get());
  std::string out(hex);
  OPENSSL_free(hex);
  return out;
}

}  // namespace weft::tls
