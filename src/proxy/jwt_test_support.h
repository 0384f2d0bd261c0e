#pragma once
// Real keys and real signatures for JWT tests: an RSA or EC key pair made by OpenSSL, its
// public half as a JWK, and tokens signed with it (RS256/PS256/ES256...).

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <fmt/format.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/base64.h"

namespace weft::proxy::testing {

class TestSigner {
 public:
  static TestSigner rsa() { return TestSigner(EVP_RSA_gen(2048), "RSA"); }
  static TestSigner ec(const char* curve = "P-256") {
    const char* group = std::string_view(curve) == "P-256" ? "prime256v1" : std::string_view(curve) == "P-384" ? "secp384r1" : "secp521r1";
    TestSigner signer(EVP_EC_gen(group), "EC");
    signer.curve_ = curve;
    return signer;
  }

  // The public key as a JWK with `kid` (omitted when empty).
  std::string jwk(const std::string& kid) const {
    std::string kidField = kid.empty() ? "" : fmt::format(R"("kid":"{}",)", kid);
    if (kty_ == "RSA") {
      return fmt::format(R"({{{}"kty":"RSA","n":"{}","e":"{}"}})", kidField, bnParam(OSSL_PKEY_PARAM_RSA_N), bnParam(OSSL_PKEY_PARAM_RSA_E));
    }
    size_t size = curve_ == "P-256" ? 32 : curve_ == "P-384" ? 48 : 66;
    return fmt::format(R"({{{}"kty":"EC","crv":"{}","x":"{}","y":"{}"}})", kidField, curve_, bnParam(OSSL_PKEY_PARAM_EC_PUB_X, size),
                       bnParam(OSSL_PKEY_PARAM_EC_PUB_Y, size));
  }
  std::string jwks(const std::string& kid) const { return R"({"keys":[)" + jwk(kid) + "]}"; }

  // A compact JWS of `payload` (JSON) with header {"alg": alg, "kid": kid}.
  std::string sign(const std::string& alg, const std::string& payload, const std::string& kid = "") const {
    std::string header = kid.empty() ? fmt::format(R"({{"alg":"{}","typ":"JWT"}})", alg) : fmt::format(R"({{"alg":"{}","kid":"{}"}})", alg, kid);
    std::string signingInput = base64UrlEncode(header) + "." + base64UrlEncode(payload);
    return signingInput + "." + base64UrlEncode(signature(alg, signingInput));
  }

 private:
  TestSigner(EVP_PKEY* key, std::string kty) : key_(key, EVP_PKEY_free), kty_(std::move(kty)) {
    if (key == nullptr) throw std::runtime_error("key generation failed");
  }

  std::string bnParam(const char* name, size_t padTo = 0) const {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key_.get(), name, &bn) != 1) throw std::runtime_error(std::string("no key parameter ") + name);
    std::vector<unsigned char> bytes(std::max<size_t>(padTo, static_cast<size_t>(BN_num_bytes(bn))));
    BN_bn2binpad(bn, bytes.data(), static_cast<int>(bytes.size()));
    BN_free(bn);
    return base64UrlEncode(std::string(bytes.begin(), bytes.end()));
  }

  std::string signature(const std::string& alg, const std::string& input) const {
    const EVP_MD* md = alg.ends_with("384") ? EVP_sha384() : alg.ends_with("512") ? EVP_sha512() : EVP_sha256();
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* keyCtx = nullptr;
    EVP_DigestSignInit(ctx.get(), &keyCtx, md, nullptr, key_.get());
    if (alg.starts_with("PS")) {
      EVP_PKEY_CTX_set_rsa_padding(keyCtx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(keyCtx, RSA_PSS_SALTLEN_DIGEST);
    }
    size_t length = 0;
    EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string der(length, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &length, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    der.resize(length);
    if (kty_ != "EC") return der;
    // ECDSA: DER to the JWS form r||s, each padded to the curve's size.
    size_t size = curve_ == "P-256" ? 32 : curve_ == "P-384" ? 48 : 66;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), ECDSA_SIG_free);
    std::string raw(2 * size, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(size));
    BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data() + size), static_cast<int>(size));
    return raw;
  }

  std::shared_ptr<EVP_PKEY> key_;
  std::string kty_;
  std::string curve_;
};

}  // namespace weft::proxy::testing
