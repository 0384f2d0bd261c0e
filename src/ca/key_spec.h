#pragma once
// Which keys Weft makes and which it accepts. Keys weaker than RSA 2048, and curves other
// than P-256 and P-384, are refused wherever a key comes from outside.

#include <string_view>

#include "base/result.h"
#include "tls/openssl_types.h"

namespace weft::ca {

enum class KeyAlgorithm { kRsa, kEcdsaP256 };

struct KeySpec {
  KeyAlgorithm algorithm = KeyAlgorithm::kEcdsaP256;
  int rsaBits = 2048;

  static KeySpec rsa(int bits) { return {KeyAlgorithm::kRsa, bits}; }
  static KeySpec ecdsaP256() { return {KeyAlgorithm::kEcdsaP256, 0}; }
};

// "rsa" or "ec" as given to --key-type; `rsaBits` is the size used for "rsa".
Result<KeySpec> parseKeyType(std::string_view name, int rsaBits);

Result<tls::EvpPkeyPtr> generateKey(const KeySpec& spec);

constexpr int kMinRsaBits = 2048;
Status checkKeyStrength(const EVP_PKEY* key);

}  // namespace weft::ca
