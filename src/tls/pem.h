#pragma once
// PEM and DER decoding for certificates, private keys and CSRs. Everything here treats its
// input as hostile: each refusal says which block failed and why, and nothing asserts.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "tls/openssl_types.h"

namespace weft::tls {

struct PemBlock {
  std::string type;  // the word between "BEGIN " and the dashes, e.g. "CERTIFICATE"
  std::string der;
};

// Splits PEM text into its blocks. Text between blocks is ignored (as openssl does), but
// a file with no block at all, a block with bad base64 or a missing END line is an error.
Result<std::vector<PemBlock>> readPemBlocks(std::string_view text);

// One or more certificates, in file order. Any non-certificate block is an error.
Result<std::vector<X509Ptr>> parseCertificates(std::string_view pem);

// Exactly one private key: PKCS#8 ("PRIVATE KEY"), "RSA PRIVATE KEY" or "EC PRIVATE KEY"
// (an "EC PARAMETERS" block before it is skipped). Encrypted keys are refused.
Result<EvpPkeyPtr> parsePrivateKey(std::string_view pem);

// A PKCS#10 request in PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or DER.
// Only decodes; the signature and contents are checked by ca::checkCsr.
Result<X509ReqPtr> parseCsr(std::string_view pemOrDer);

std::string toPem(X509* cert);
std::string toPem(X509_REQ* csr);
std::string privateKeyToPem(EVP_PKEY* key);  // unencrypted PKCS#8, as openssl 3 genrsa writes
std::string toDer(X509* cert);

}  // namespace weft::tls
