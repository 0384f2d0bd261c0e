#pragma once
// Read-only views of certificate fields, in the spellings people know from `openssl x509`.

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "tls/openssl_types.h"

namespace weft::tls {

// "O=Acme LLC., CN=Acme LLC Root CA"; "(empty)" for an empty name.
std::string distinguishedName(const X509_NAME* name);

SystemTime asn1TimeToSystemTime(const ASN1_TIME* time);
SystemTime notBefore(const X509* cert);
SystemTime notAfter(const X509* cert);

std::vector<std::string> uriSans(const X509* cert);
std::vector<std::string> dnsSans(const X509* cert);

// "RSA 4096", "ECDSA P-256", "ED25519"; "(unreadable public key)" for null.
std::string describeKey(const EVP_PKEY* key);

bool isCa(X509* cert);
bool keyMatchesCertificate(X509* cert, EVP_PKEY* key);
// True when `cert`'s signature verifies with `issuer`'s public key and names it as issuer.
bool isSignedBy(X509* cert, X509* issuer);
bool isSelfSigned(X509* cert);

std::string serialHex(const X509* cert);

}  // namespace weft::tls
