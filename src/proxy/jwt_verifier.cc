#include "proxy/jwt_verifier.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <boost/json/parse.hpp>
#include <algorithm>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>

#include "base/base64.h"

namespace weft::proxy {
namespace json = boost::json;

namespace {

struct Algorithm {
  std::string_view name;
  std::string_view kty;
  const EVP_MD* (*digest)();
  bool pss = false;
  size_t ecPartBytes = 0;  // ES*: the size of r and of s in the signature
  std::string_view curve;  // ES*: the curve the key must be on
};

std::optional<Algorithm> algorithmNamed(std::string_view name) {
  static const Algorithm kAll[] = {
      {"RS256", "RSA", EVP_sha256, false, 0, ""},     {"RS384", "RSA", EVP_sha384, false, 0, ""},
      {"RS512", "RSA", EVP_sha512, false, 0, ""},     {"PS256", "RSA", EVP_sha256, true, 0, ""},
      {"PS384", "RSA", EVP_sha384, true, 0, ""},      {"PS512", "RSA", EVP_sha512, true, 0, ""},
      {"ES256", "EC", EVP_sha256, false, 32, "P-256"}, {"ES384", "EC", EVP_sha384, false, 48, "P-384"},
      {"ES512", "EC", EVP_sha512, false, 66, "P-521"},
  };
  for (const auto& a : kAll) {
    if (a.name == name) return a;
  }
  return std::nullopt;
}

using BigNum = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)>;
using Params = std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)>;
using KeyContext = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;

std::string stringField(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// OpenSSL's key from its parameters (RSA n and e, or EC group and point).
std::shared_ptr<EVP_PKEY> keyFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  Params params(OSSL_PARAM_BLD_to_param(builder), OSSL_PARAM_free);
  KeyContext ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return nullptr;
  }
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

Result<std::shared_ptr<EVP_PKEY>> rsaKey(const json::object& jwk) {
  auto n = base64UrlDecode(stringField(jwk, "n"));
  auto e = base64UrlDecode(stringField(jwk, "e"));
  if (!n || !e || n->empty() || e->empty()) return makeError("RSA key without a valid n and e");
  BigNum modulus(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr), BN_free);
  BigNum exponent(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr), BN_free);
  ParamBuilder builder(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!modulus || !exponent || !builder || !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get())) {
    return makeError("RSA key: out of memory");
  }
  auto key = keyFromParams("RSA", builder.get());
  if (key == nullptr) return makeError("RSA key refused by OpenSSL");
  return key;
}

Result<std::shared_ptr<EVP_PKEY>> ecKey(const json::object& jwk, const std::string& curve) {
  const char* group = curve == "P-256" ? "prime256v1" : curve == "P-384" ? "secp384r1" : curve == "P-521" ? "secp521r1" : nullptr;
  if (group == nullptr) return makeError("EC key on curve {:?}: only P-256, P-384 and P-521 are read", curve);
  size_t size = curve == "P-256" ? 32 : curve == "P-384" ? 48 : 66;
  auto x = base64UrlDecode(stringField(jwk, "x"));
  auto y = base64UrlDecode(stringField(jwk, "y"));
  if (!x || !y || x->size() != size || y->size() != size) return makeError("EC key without a valid x and y for {}", curve);
  std::string point = "\x04" + *x + *y;  // uncompressed
  ParamBuilder builder(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!builder || !OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size())) {
    return makeError("EC key: out of memory");
  }
  auto key = keyFromParams("EC", builder.get());
  if (key == nullptr) return makeError("EC key refused by OpenSSL (not a point on {})", curve);
  return key;
}

// A JWS ES* signature (r||s) as the DER ECDSA-Sig-Value OpenSSL verifies.
std::optional<std::string> ecdsaDer(std::string_view raw, size_t partBytes) {
  if (raw.size() != 2 * partBytes) return std::nullopt;
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(partBytes), nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + partBytes), static_cast<int>(partBytes), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

bool signatureHolds(const Algorithm& alg, EVP_PKEY* key, std::string_view signedPart, std::string_view signature) {
  std::string der;
  if (alg.ecPartBytes != 0) {
    auto converted = ecdsaDer(signature, alg.ecPartBytes);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* keyCtx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &keyCtx, alg.digest(), nullptr, key) != 1) return false;
  if (alg.pss && (EVP_PKEY_CTX_set_rsa_padding(keyCtx, RSA_PKCS1_PSS_PADDING) != 1 ||
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(keyCtx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(signedPart.data()), signedPart.size()) == 1;
}

std::optional<json::object> jsonObject(std::string_view text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  return std::move(parsed.get_object());
}

// A NumericDate claim: absent is fine, a non-number is not.
Result<std::optional<int64_t>> numericDate(const json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (v == nullptr) return std::optional<int64_t>();
  // Far-off times are clamped (a year past 292 billion is still the future, or the past).
  constexpr int64_t kFar = int64_t{1} << 52;
  if (v->is_int64()) return std::optional<int64_t>(std::clamp<int64_t>(v->get_int64(), -kFar, kFar));
  if (v->is_uint64()) return std::optional<int64_t>(static_cast<int64_t>(std::min<uint64_t>(v->get_uint64(), kFar)));
  if (v->is_double()) return std::optional<int64_t>(static_cast<int64_t>(std::clamp<double>(v->get_double(), -double(kFar), double(kFar))));
  return makeError("Jwt payload [{}] field is not a number", name);
}

}  // namespace

Result<JwtKeys> JwtKeys::parse(std::string_view jwks) {
  auto document = jsonObject(jwks);
  if (!document) return makeError("the JWKS is not a JSON object");
  std::vector<json::object> candidates;
  if (const auto* list = document->if_contains("keys")) {
    if (!list->is_array()) return makeError("the JWKS's keys is not a list");
    for (const auto& k : list->get_array()) {
      if (k.is_object()) candidates.push_back(k.get_object());
    }
  } else {
    candidates.push_back(*document);  // a single JWK
  }
  JwtKeys out;
  std::string lastProblem = "no key";
  for (const auto& jwk : candidates) {
    Key key{stringField(jwk, "kid"), stringField(jwk, "kty"), stringField(jwk, "alg"), stringField(jwk, "crv"), nullptr};
    if (std::string use = stringField(jwk, "use"); !use.empty() && use != "sig") continue;
    Result<std::shared_ptr<EVP_PKEY>> made = key.kty == "RSA" ? rsaKey(jwk)
                                             : key.kty == "EC" ? ecKey(jwk, key.curve)
                                                               : Result<std::shared_ptr<EVP_PKEY>>(makeError("key type {:?} is not read", key.kty));
    if (!made) {
      lastProblem = made.error().message;
      continue;
    }
    key.publicKey = std::move(*made);
    out.keys_.push_back(std::move(key));
  }
  if (out.keys_.empty()) return makeError("the JWKS has no usable key ({})", lastProblem);
  return out;
}

std::string ParsedJwt::issuer() const { return stringField(claims, "iss"); }

Result<ParsedJwt> parseJwt(std::string_view token) {
  auto firstDot = token.find('.');
  auto secondDot = firstDot == std::string_view::npos ? firstDot : token.find('.', firstDot + 1);
  if (secondDot == std::string_view::npos || token.find('.', secondDot + 1) != std::string_view::npos) {
    return makeError("Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
  }
  ParsedJwt out;
  out.signedPart = token.substr(0, secondDot);
  out.payloadPart = token.substr(firstDot + 1, secondDot - firstDot - 1);
  auto headerJson = base64UrlDecode(token.substr(0, firstDot));
  if (!headerJson) return makeError("Jwt header is an invalid Base64url encoded");
  auto header = jsonObject(*headerJson);
  if (!header) return makeError("Jwt header is an invalid JSON");
  out.algorithm = stringField(*header, "alg");
  if (out.algorithm.empty()) return makeError("Jwt header [alg] field is required and must be a string");
  if (!algorithmNamed(out.algorithm)) return makeError("Jwt header [alg] is not supported");
  out.kid = stringField(*header, "kid");
  auto payloadJson = base64UrlDecode(out.payloadPart);
  if (!payloadJson) return makeError("Jwt payload is an invalid Base64url encoded");
  auto claims = jsonObject(*payloadJson);
  if (!claims) return makeError("Jwt payload is an invalid JSON");
  out.claims = std::move(*claims);
  auto signature = base64UrlDecode(token.substr(secondDot + 1));
  if (!signature || signature->empty()) return makeError("Jwt signature is an invalid Base64url encoded");
  out.signature = std::move(*signature);
  return out;
}

Result<VerifiedJwt> verifyJwt(std::string_view token, const JwtKeys& keys, std::chrono::system_clock::time_point now) {
  auto parsed = parseJwt(token);
  if (!parsed) return parsed.error();
  return verifyJwt(std::move(*parsed), keys, now);
}

Result<VerifiedJwt> verifyJwt(ParsedJwt parsed, const JwtKeys& keys, std::chrono::system_clock::time_point now) {
  auto alg = algorithmNamed(parsed.algorithm);
  if (!alg) return makeError("Jwt header [alg] is not supported");
  // The signature first: nothing in an unverified payload is believed.
  bool anyKey = false, verified = false;
  for (const auto& key : keys.keys()) {
    // A kid on both sides must agree; a key without one is tried for any token (Envoy).
    if (key.kty != alg->kty || (!key.alg.empty() && key.alg != alg->name) || (!parsed.kid.empty() && !key.kid.empty() && key.kid != parsed.kid)) {
      continue;
    }
    if (!alg->curve.empty() && key.curve != alg->curve) continue;
    anyKey = true;
    if (signatureHolds(*alg, key.publicKey.get(), parsed.signedPart, parsed.signature)) {
      verified = true;
      break;
    }
  }
  if (!anyKey) return makeError("Jwks doesn't have key to match kid or alg from Jwt");
  if (!verified) return makeError("Jwt verification fails");
  const boost::json::object& claims = parsed.claims;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto expires = numericDate(claims, "exp");
  auto notBefore = numericDate(claims, "nbf");
  if (!expires) return expires.error();
  if (!notBefore) return notBefore.error();
  if (*expires && seconds - kJwtClockSkew.count() > **expires) return makeError("Jwt is expired");
  if (*notBefore && **notBefore - kJwtClockSkew.count() > seconds) return makeError("Jwt not yet valid");

  VerifiedJwt out;
  out.issuer = stringField(claims, "iss");
  out.subject = stringField(claims, "sub");
  out.presenter = stringField(claims, "azp");
  if (const auto* aud = claims.if_contains("aud")) {
    if (aud->is_string()) out.audiences.emplace_back(aud->get_string());
    if (aud->is_array()) {
      for (const auto& a : aud->get_array()) {
        if (a.is_string()) out.audiences.emplace_back(a.get_string());
      }
    }
  }
  out.claims = std::move(parsed.claims);
  out.payloadBase64Url = std::string(parsed.payloadPart);
  return out;
}

}  // namespace weft::proxy
