#include "ca/ca_bundle.h"

#include <openssl/x509_vfy.h>

#include "base/file_io.h"
#include "base/time_format.h"
#include "ca/key_spec.h"
#include "ca/signing_ca.h"
#include "tls/openssl_error.h"
#include "tls/pem.h"
#include "tls/spiffe_id.h"
#include "tls/x509_info.h"

namespace weft::ca {
namespace {

struct LayoutNames {
  CaLayout layout;
  const char* cert;
  const char* key;
  const char* chain;  // may be empty: the chain is cert + root
  const char* root;
};

constexpr LayoutNames kIstioNames{CaLayout::kIstio, "ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"};
constexpr LayoutNames kTlsNames{CaLayout::kKubernetesTls, "tls.crt", "tls.key", "", "ca.crt"};

Result<std::vector<tls::X509Ptr>> certsOf(const CaFiles& files, const char* name) {
  auto found = files.find(name);
  if (found == files.end()) return makeError("{}: missing", name);
  auto certs = tls::parseCertificates(found->second);
  if (!certs) return certs.error().wrap(name);
  return certs;
}

bool sameCertificate(X509* a, X509* b) { return X509_cmp(a, b) == 0; }

Status checkValidity(X509* cert, const char* file, SystemTime now) {
  if (tls::notAfter(cert) <= now) return makeError("{}: certificate expired on {}", file, formatUtc(tls::notAfter(cert)));
  if (tls::notBefore(cert) > now) return makeError("{}: certificate is not valid until {}", file, formatUtc(tls::notBefore(cert)));
  return {};
}

// Chain verification with OpenSSL's own path validation, the root as the only anchor.
Status verifyChain(const std::vector<tls::X509Ptr>& chain, SystemTime now) {
  tls::X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), chain.back().get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i + 1 < chain.size(); ++i) sk_X509_push(untrusted, chain[i].get());
  tls::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), chain.front().get(), untrusted);
  X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(now));
  int ok = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  sk_X509_free(untrusted);
  tls::clearOpensslErrors();
  if (ok != 1) return makeError("the chain does not verify to the root: {}", X509_verify_cert_error_string(err));
  return {};
}

}  // namespace

std::string CaBundle::chainPem() const {
  std::string out;
  for (const auto& cert : chain) out += tls::toPem(cert.get());
  return out;
}

std::string CaBundle::rootPem() const { return tls::toPem(root()); }

Result<CaBundle> loadCaFiles(const CaFiles& files, const std::string& source, const Clock& clock) {
  const LayoutNames& names = files.count(kTlsNames.cert) ? kTlsNames : kIstioNames;
  auto wrap = [&](const Error& e) { return e.wrap(source); };

  auto signing = certsOf(files, names.cert);
  if (!signing) return wrap(signing.error());
  auto keyFile = files.find(names.key);
  if (keyFile == files.end()) return wrap(makeError("{}: missing", names.key));
  auto key = tls::parsePrivateKey(keyFile->second);
  if (!key) return wrap(key.error().wrap(names.key));
  auto roots = certsOf(files, names.root);
  if (!roots) return wrap(roots.error());
  if (roots->size() != 1) return wrap(makeError("{}: expected one root certificate, found {}", names.root, roots->size()));

  CaBundle bundle;
  bundle.layout = names.layout;
  bundle.signingCert = tls::shareCertificate(signing->front().get());
  bundle.signingKey = std::move(key.value());

  // The chain runs signing cert -> ... -> root. cert-chain.pem normally holds it whole
  // (Istio's Makefile writes ca-cert + root); tolerate one that omits either end.
  std::vector<tls::X509Ptr> chain;
  if (names.chain[0] != '\0' && files.count(names.chain)) {
    auto listed = certsOf(files, names.chain);
    if (!listed) return wrap(listed.error());
    chain = std::move(listed.value());
  } else {
    chain = std::move(signing.value());  // tls.crt may carry intermediates after the signing cert
  }
  if (!sameCertificate(chain.front().get(), bundle.signingCert.get())) {
    chain.insert(chain.begin(), tls::shareCertificate(bundle.signingCert.get()));
  }
  X509* root = roots->front().get();
  if (!sameCertificate(chain.back().get(), root)) chain.push_back(tls::shareCertificate(root));
  bundle.chain = std::move(chain);

  if (!tls::keyMatchesCertificate(bundle.signingCert.get(), bundle.signingKey.get())) {
    return wrap(makeError("{} does not match {}", names.key, names.cert));
  }
  if (auto strong = checkKeyStrength(bundle.signingKey.get()); !strong) {
    return wrap(strong.error().wrap(names.key));
  }
  if (!tls::isCa(bundle.signingCert.get())) {
    return wrap(makeError("{}: not a CA certificate (basicConstraints CA:true with keyCertSign is required)", names.cert));
  }
  if (!tls::isSelfSigned(root)) return wrap(makeError("{}: the root certificate is not self-signed", names.root));
  auto now = clock();
  for (size_t i = 0; i < bundle.chain.size(); ++i) {
    const char* file = i == 0 ? names.cert : (i + 1 == bundle.chain.size() ? names.root : (names.chain[0] ? names.chain : names.cert));
    if (auto valid = checkValidity(bundle.chain[i].get(), file, now); !valid) return wrap(valid.error());
  }
  if (auto verified = verifyChain(bundle.chain, now); !verified) return wrap(verified.error());
  return bundle;
}

Result<CaBundle> loadCaDirectory(const std::filesystem::path& dir, const Clock& clock) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return makeError("{}: not a directory", dir.string());
  CaFiles files;
  for (const char* name : {kIstioNames.cert, kIstioNames.key, kIstioNames.chain, kIstioNames.root, kTlsNames.cert,
                           kTlsNames.key, kTlsNames.root}) {
    if (!std::filesystem::exists(dir / name)) continue;
    auto contents = readFile(dir / name);
    if (!contents) return contents.error();
    files[name] = std::move(contents.value());
  }
  if (files.empty()) {
    return makeError("{}: no CA files (expected ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem or tls.crt, tls.key, ca.crt)",
                     dir.string());
  }
  return loadCaFiles(files, dir.string(), clock);
}

Result<CaBundle> makeSelfSignedCa(const std::string& trustDomain, const Clock& clock) {
  WEFT_TRY(tls::checkTrustDomain(trustDomain));
  auto root = makeRootCa(CaCertOptions{.org = trustDomain, .cn = "", .days = 3650, .key = KeySpec::rsa(2048)}, clock);
  if (!root) return root.error();
  CaBundle bundle;
  bundle.layout = CaLayout::kSelfSigned;
  bundle.signingCert = tls::shareCertificate(root->cert.get());
  bundle.signingKey = std::move(root->key);
  bundle.chain.push_back(std::move(root->cert));
  return bundle;
}

CaFiles toIstioFiles(const CaBundle& bundle) {
  return {{kIstioNames.cert, tls::toPem(bundle.signingCert.get())},
          {kIstioNames.key, tls::privateKeyToPem(bundle.signingKey.get())},
          {kIstioNames.chain, bundle.chainPem()},
          {kIstioNames.root, bundle.rootPem()}};
}

}  // namespace weft::ca
