#pragma once
// JSON Web Tokens as RequestAuthentication checks them: a JSON Web Key Set (RFC 7517) read
// into OpenSSL public keys, and a compact JWS (RFC 7515) verified against it, with the
// claims a policy can then read. Envoy's jwt_authn (jwt_verify_lib) is the model, down to
// its failure texts, which the 401 body carries.
//
// Signatures: RS256/384/512 (RSA PKCS#1 v1.5), PS256/384/512 (RSA-PSS) and ES256/384/512
// (ECDSA on P-256/384/521, the signature being r||s). "none" and HMAC are refused: a
// RequestAuthentication names public keys only. A token with a `kid` is checked with the
// keys of that kid; without, with every key of the algorithm's type. `exp` and `nbf` allow
// Envoy's 60 s of clock skew. A token is parsed once (parseJwt), its issuer read only to
// pick the keys, then verified (verifyJwt).

#include <openssl/evp.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace weft::proxy {

class JwtKeys {
 public:
  struct Key {
    std::string kid;  // may be empty
    std::string kty;  // "RSA" or "EC"
    std::string alg;  // as the JWK says, may be empty (any of its type)
    std::string curve;  // EC: "P-256", "P-384", "P-521"
    std::shared_ptr<EVP_PKEY> publicKey;
  };

  // A JWKS ({"keys": [...]}) or a single JWK. Keys of other types (oct, OKP) and keys
  // marked for encryption are skipped; an error when none is left or the JSON is bad.
  static Result<JwtKeys> parse(std::string_view jwks);

  const std::vector<Key>& keys() const { return keys_; }

 private:
  std::vector<Key> keys_;
};

// A token whose signature verified and whose times hold.
struct VerifiedJwt {
  std::string issuer;   // iss
  std::string subject;  // sub
  std::vector<std::string> audiences;  // aud, a string or a list
  std::string presenter;               // azp
  boost::json::object claims;          // the whole payload
  std::string payloadBase64Url;        // the payload as sent (outputPayloadToHeader)
  // Top-level claims whose string is a space-separated list (`scope`, `permission` and the
  // verifying rule's spaceDelimitedClaims), set by RequestAuthentication.
  std::vector<std::string> spaceDelimitedClaims;
};

inline constexpr std::chrono::seconds kJwtClockSkew{60};

// A token taken apart, nothing in it believed yet: its issuer only picks the keys that
// check it.
struct ParsedJwt {
  std::string_view signedPart;  // header.payload, as sent (views into the token)
  std::string_view payloadPart;
  std::string algorithm, kid;
  std::string signature;
  boost::json::object claims;
  std::string issuer() const;
};

// The error messages are Envoy's texts for the failure ("Jwt is not in the form of ...",
// "Jwt is expired", "Jwt verification fails", ...).
Result<ParsedJwt> parseJwt(std::string_view token);
Result<VerifiedJwt> verifyJwt(ParsedJwt parsed, const JwtKeys& keys, std::chrono::system_clock::time_point now);
Result<VerifiedJwt> verifyJwt(std::string_view token, const JwtKeys& keys, std::chrono::system_clock::time_point now);

}  // namespace weft::proxy
