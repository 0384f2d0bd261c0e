#include "proxy/jwt_verifier.h"

#include <gtest/gtest.h>

#include "proxy/jwt_test_support.h"

namespace weft::proxy {
namespace {

using testing::TestSigner;
using Clock = std::chrono::system_clock;

const auto kNow = Clock::time_point(std::chrono::seconds(1'800'000'000));
const std::string kClaims = R"({"iss":"https://issuer.example","sub":"alice","aud":["api","web"],"azp":"cli","exp":1800003600,"groups":["a","b"]})";

JwtKeys keysOf(const std::string& jwks) {
  auto keys = JwtKeys::parse(jwks);
  EXPECT_TRUE(keys) << keys.error().message;
  return keys ? *keys : JwtKeys{};
}

TEST(JwtVerifier, RsaPssAndEcSignaturesVerifyAndTheClaimsAreRead) {
  TestSigner rsa = TestSigner::rsa();
  TestSigner ec = TestSigner::ec("P-256");
  TestSigner ec384 = TestSigner::ec("P-384");
  JwtKeys keys = keysOf(R"({"keys":[)" + rsa.jwk("r1") + "," + ec.jwk("e1") + "," + ec384.jwk("") + "]}");
  ASSERT_EQ(keys.keys().size(), 3u);
  for (const auto& [alg, token] : {std::pair{"RS256", rsa.sign("RS256", kClaims, "r1")}, std::pair{"RS512", rsa.sign("RS512", kClaims)},
                                   std::pair{"PS256", rsa.sign("PS256", kClaims, "r1")}, std::pair{"ES256", ec.sign("ES256", kClaims, "e1")},
                                   std::pair{"ES384", ec384.sign("ES384", kClaims)}}) {
    auto jwt = verifyJwt(token, keys, kNow);
    ASSERT_TRUE(jwt) << alg << ": " << jwt.error().message;
    EXPECT_EQ(jwt->issuer, "https://issuer.example");
    EXPECT_EQ(jwt->subject, "alice");
    EXPECT_EQ(jwt->audiences, (std::vector<std::string>{"api", "web"}));
    EXPECT_EQ(jwt->presenter, "cli");
    EXPECT_TRUE(jwt->claims.contains("groups"));
    EXPECT_EQ(jwt->payloadBase64Url, base64UrlEncode(kClaims));
  }
  auto parsed = parseJwt(rsa.sign("RS256", kClaims));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->issuer(), "https://issuer.example");
  EXPECT_EQ(parsed->algorithm, "RS256");
}

TEST(JwtVerifier, ForgedExpiredAndEarlyTokensAreRefusedWithEnvoysTexts) {
  TestSigner rsa = TestSigner::rsa();
  TestSigner other = TestSigner::rsa();
  JwtKeys keys = keysOf(rsa.jwks("k"));
  auto failure = [&](const std::string& token, Clock::time_point now = kNow) {
    auto jwt = verifyJwt(token, keys, now);
    return jwt ? std::string("verified") : jwt.error().message;
  };
  EXPECT_EQ(failure(other.sign("RS256", kClaims, "k")), "Jwt verification fails") << "another key's signature";
  std::string good = rsa.sign("RS256", kClaims, "k");
  // The same signature over another payload (sub changed).
  std::string otherClaims = R"({"iss":"https://issuer.example","sub":"mallory","exp":1800003600})";
  std::string tampered = good.substr(0, good.find('.') + 1) + base64UrlEncode(otherClaims) + good.substr(good.rfind('.'));
  EXPECT_EQ(failure(tampered), "Jwt verification fails");
  EXPECT_EQ(failure(good), "verified");
  EXPECT_EQ(failure(good, Clock::time_point(std::chrono::seconds(1'800'003'600 + 61))), "Jwt is expired");
  EXPECT_EQ(failure(good, Clock::time_point(std::chrono::seconds(1'800'003'600 + 59))), "verified") << "60 s of clock skew";
  std::string early = rsa.sign("RS256", R"({"iss":"i","sub":"s","nbf":1800000100})", "k");
  EXPECT_EQ(failure(early), "Jwt not yet valid");
  EXPECT_EQ(failure(rsa.sign("RS256", kClaims, "unknown-kid")), "Jwks doesn't have key to match kid or alg from Jwt");
  EXPECT_EQ(failure(rsa.sign("ES256", kClaims, "k")), "Jwks doesn't have key to match kid or alg from Jwt") << "an RSA key for ES256";
  EXPECT_EQ(failure(rsa.sign("RS256", R"({"iss":"i","exp":"tomorrow"})", "k")), "Jwt payload [exp] field is not a number");
  EXPECT_EQ(failure(rsa.sign("RS256", R"({"iss":"i","exp":1e300})", "k")), "verified") << "a far-off exp is the future";
  EXPECT_EQ(failure(rsa.sign("RS256", R"({"iss":"i","exp":-1e300})", "k")), "Jwt is expired");
}

TEST(JwtVerifier, KeyChoiceByKidAlgAndCurve) {
  TestSigner rsa = TestSigner::rsa();
  TestSigner p384 = TestSigner::ec("P-384");
  // A key without a kid is tried for a token that names one (Envoy does too).
  EXPECT_TRUE(verifyJwt(rsa.sign("RS256", kClaims, "any-kid"), keysOf(rsa.jwks("")), kNow));
  // ES256 needs a P-256 key; a P-384 one is not it.
  EXPECT_TRUE(verifyJwt(p384.sign("ES384", kClaims), keysOf(p384.jwks("")), kNow)) << "ES384 on P-384 verifies";
  std::string es256Header = base64UrlEncode(R"({"alg":"ES256"})");
  std::string es384 = p384.sign("ES384", kClaims);
  auto asEs256 = verifyJwt(es256Header + es384.substr(es384.find('.')), keysOf(p384.jwks("")), kNow);
  ASSERT_FALSE(asEs256);
  EXPECT_EQ(asEs256.error().message, "Jwks doesn't have key to match kid or alg from Jwt");
  // A JWK that names its alg is used for that one only.
  std::string rs256Only = R"({"keys":[)" + rsa.jwk("").insert(1, R"("alg":"RS256",)") + "]}";
  auto ps = verifyJwt(rsa.sign("PS256", kClaims), keysOf(rs256Only), kNow);
  ASSERT_FALSE(ps);
  EXPECT_EQ(ps.error().message, "Jwks doesn't have key to match kid or alg from Jwt");
  EXPECT_TRUE(verifyJwt(rsa.sign("RS256", kClaims), keysOf(rs256Only), kNow));
}

TEST(JwtVerifier, MalformedTokensAreRefusedBeforeAnyKeyIsTried) {
  TestSigner rsa = TestSigner::rsa();
  JwtKeys keys = keysOf(rsa.jwks(""));
  auto failure = [&](const std::string& token) {
    auto jwt = verifyJwt(token, keys, kNow);
    return jwt ? std::string("verified") : jwt.error().message;
  };
  const std::string body = base64UrlEncode(kClaims);
  EXPECT_EQ(failure("abc"), "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
  EXPECT_EQ(failure("a.b.c.d"), "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
  EXPECT_EQ(failure("!!!." + body + ".sig"), "Jwt header is an invalid Base64url encoded");
  EXPECT_EQ(failure(base64UrlEncode("not json") + "." + body + ".sig"), "Jwt header is an invalid JSON");
  EXPECT_EQ(failure(base64UrlEncode(R"({"typ":"JWT"})") + "." + body + ".sig"), "Jwt header [alg] field is required and must be a string");
  // "none" and HMAC: a RequestAuthentication names public keys only.
  EXPECT_EQ(failure(base64UrlEncode(R"({"alg":"none"})") + "." + body + "."), "Jwt header [alg] is not supported");
  EXPECT_EQ(failure(base64UrlEncode(R"({"alg":"HS256"})") + "." + body + ".c2ln"), "Jwt header [alg] is not supported");
  EXPECT_EQ(failure(base64UrlEncode(R"({"alg":"RS256"})") + ".@@." + "c2ln"), "Jwt payload is an invalid Base64url encoded");
  EXPECT_EQ(failure(base64UrlEncode(R"({"alg":"RS256"})") + "." + base64UrlEncode("[1]") + ".c2ln"), "Jwt payload is an invalid JSON");
  EXPECT_EQ(failure(base64UrlEncode(R"({"alg":"RS256"})") + "." + body + "."), "Jwt signature is an invalid Base64url encoded");
  EXPECT_EQ(failure(base64UrlEncode(R"({"alg":"ES256"})") + "." + body + ".c2ln"), "Jwks doesn't have key to match kid or alg from Jwt");
}

TEST(JwtKeys, SetsSingleKeysAndWhatIsSkipped) {
  TestSigner rsa = TestSigner::rsa();
  EXPECT_EQ(keysOf(rsa.jwk("single")).keys().size(), 1u) << "a bare JWK";
  auto mixed = JwtKeys::parse(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},)" + rsa.jwk("sig") + "]}");
  ASSERT_TRUE(mixed) << mixed.error().message;
  ASSERT_EQ(mixed->keys().size(), 1u);
  EXPECT_EQ(mixed->keys()[0].kid, "sig");
  EXPECT_FALSE(JwtKeys::parse("not json"));
  EXPECT_FALSE(JwtKeys::parse(R"({"keys":{}})"));
  auto none = JwtKeys::parse(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no usable key"), std::string::npos) << none.error().message;
  const std::string zeros(43, 'A');  // 32 zero bytes: the right size, not a point on P-256
  auto offCurve = JwtKeys::parse(R"({"kty":"EC","crv":"P-256","x":")" + zeros + R"(","y":")" + zeros + R"("})");
  ASSERT_FALSE(offCurve);
  EXPECT_NE(offCurve.error().message.find("not a point"), std::string::npos) << offCurve.error().message;
  EXPECT_FALSE(JwtKeys::parse(R"({"kty":"EC","crv":"secp256k1","x":"AAAA","y":"AAAA"})"));
}

}  // namespace
}  // namespace weft::proxy
