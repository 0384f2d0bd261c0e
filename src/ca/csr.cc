#include "ca/csr.h"

#include "ca/key_spec.h"
#include "tls/openssl_error.h"

namespace weft::ca {
namespace {

const char* generalNameKind(int type) {
  switch (type) {
    case GEN_DNS: return "DNS name";
    case GEN_IPADD: return "IP address";
    case GEN_EMAIL: return "email address";
    case GEN_URI: return "URI";
    default: return "non-URI name";
  }
}

// The subjectAltName extension of a CSR, or null when it has none.
Result<tls::GeneralNamesPtr> csrSans(X509_REQ* csr) {
  STACK_OF(X509_EXTENSION)* extensions = X509_REQ_get_extensions(csr);
  if (extensions == nullptr) {
    tls::clearOpensslErrors();
    return tls::GeneralNamesPtr{};
  }
  tls::GeneralNamesPtr sans;
  int sanCount = 0;
  for (int i = 0; i < sk_X509_EXTENSION_num(extensions); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(extensions, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    ++sanCount;
    sans.reset(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
  }
  sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
  if (sanCount > 1) return makeError("the CSR carries {} subjectAltName extensions", sanCount);
  if (sanCount == 1 && !sans) return makeError("the CSR's subjectAltName is malformed: {}", tls::drainOpensslErrors());
  return sans;
}

}  // namespace

Result<tls::X509ReqPtr> makeCsr(EVP_PKEY* key, const tls::SpiffeId& identity) {
  tls::X509ReqPtr csr(X509_REQ_new());
  X509_REQ_set_version(csr.get(), 0);
  X509_REQ_set_pubkey(csr.get(), key);
  std::string san = "URI:" + identity.uri();
  tls::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str()));
  if (!ext) return makeError("CSR subjectAltName: {}", tls::drainOpensslErrors());
  STACK_OF(X509_EXTENSION)* extensions = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(extensions, ext.get());
  int added = X509_REQ_add_extensions(csr.get(), extensions);
  sk_X509_EXTENSION_free(extensions);
  const EVP_MD* digest = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (added != 1 || X509_REQ_sign(csr.get(), key, digest) <= 0) {
    return makeError("CSR signing: {}", tls::drainOpensslErrors());
  }
  return csr;
}

Result<tls::EvpPkeyPtr> checkCsr(X509_REQ* csr, const tls::SpiffeId& identity) {
  EVP_PKEY* publicKey = X509_REQ_get0_pubkey(csr);
  if (publicKey == nullptr) return makeError("the CSR has no readable public key: {}", tls::drainOpensslErrors());
  if (X509_REQ_verify(csr, publicKey) != 1) {
    tls::clearOpensslErrors();
    return makeError("the CSR's signature does not verify (it was not signed by the key it carries)");
  }
  if (auto strong = checkKeyStrength(publicKey); !strong) return strong.error().wrap("the CSR's key");

  auto sans = csrSans(csr);
  if (!sans) return sans.error();
  if (*sans) {
    int count = sk_GENERAL_NAME_num(sans->get());
    if (count > 1) return makeError("the CSR carries {} SANs; exactly one, {}, is allowed", count, identity.uri());
    if (count == 1) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans->get(), 0);
      if (name->type != GEN_URI) {
        return makeError("the CSR's SAN is a {}; only the URI {} is allowed", generalNameKind(name->type), identity.uri());
      }
      const ASN1_IA5STRING* value = name->d.uniformResourceIdentifier;
      std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)), static_cast<size_t>(ASN1_STRING_length(value)));
      if (uri.rfind("spiffe://", 0) != 0) return makeError("the CSR's SAN \"{}\" is not a spiffe:// URI", uri);
      if (uri != identity.uri()) {
        return makeError("the CSR asks for \"{}\" but the caller's identity is \"{}\"", uri, identity.uri());
      }
    }
  }
  return tls::shareKey(publicKey);
}

}  // namespace weft::ca
