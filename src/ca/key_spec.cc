#include "ca/key_spec.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "tls/openssl_error.h"
#include "tls/x509_info.h"

namespace weft::ca {

Result<KeySpec> parseKeyType(std::string_view name, int rsaBits) {
  if (name == "rsa") return KeySpec::rsa(rsaBits);
  if (name == "ec" || name == "ecdsa") return KeySpec::ecdsaP256();
  return makeError("unknown key type \"{}\": use rsa or ec", name);
}

Result<tls::EvpPkeyPtr> generateKey(const KeySpec& spec) {
  EVP_PKEY* key = nullptr;
  if (spec.algorithm == KeyAlgorithm::kRsa) {
    if (spec.rsaBits < kMinRsaBits || spec.rsaBits > 16384) {
      return makeError("RSA key size {} is out of range ({}..16384)", spec.rsaBits, kMinRsaBits);
    }
    key = EVP_RSA_gen(static_cast<unsigned>(spec.rsaBits));
  } else {
    key = EVP_EC_gen("P-256");
  }
  if (key == nullptr) return makeError("key generation failed: {}", tls::drainOpensslErrors());
  return tls::EvpPkeyPtr(key);
}

Status checkKeyStrength(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
        return makeError("RSA key of {} bits is too weak (at least {} required)", EVP_PKEY_get_bits(key), kMinRsaBits);
      }
      return {};
    case EVP_PKEY_EC: {
      auto described = tls::describeKey(key);
      if (described == "ECDSA P-256" || described == "ECDSA P-384") return {};
      return makeError("{} is not accepted; use P-256 or P-384", described);
    }
    default:
      return makeError("{} keys are not accepted; use RSA (2048 bits or more) or ECDSA P-256", tls::describeKey(key));
  }
}

}  // namespace weft::ca
