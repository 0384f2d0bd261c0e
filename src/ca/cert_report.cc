#include "ca/cert_report.h"

#include "base/duration.h"
#include "base/time_format.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::ca {
namespace {

std::string validityNote(X509* cert, SystemTime now) {
  auto from = tls::notBefore(cert), to = tls::notAfter(cert);
  if (now < from) return "not yet valid";
  if (now >= to) return fmt::format("EXPIRED {} ago", formatDuration(std::chrono::duration_cast<std::chrono::seconds>(now - to)));
  auto left = std::chrono::duration_cast<std::chrono::minutes>(to - now);
  if (left > std::chrono::hours(24 * 3)) return fmt::format("expires in {} days", left.count() / (60 * 24));
  return fmt::format("expires in {}", formatDuration(left));
}

std::string roleOf(X509* cert, size_t index, size_t count) {
  if (tls::isSelfSigned(cert) && tls::isCa(cert)) return "root CA";
  if (tls::isCa(cert)) return "intermediate CA";
  return index == 0 ? "leaf" : "end-entity";
}

}  // namespace

Result<std::string> describeCertificates(std::string_view pem, SystemTime now) {
  auto certs = tls::parseCertificates(pem);
  if (!certs) return certs.error();
  std::string out;
  for (size_t i = 0; i < certs->size(); ++i) {
    X509* cert = (*certs)[i].get();
    auto spiffe = tls::uriSans(cert);
    auto dns = tls::dnsSans(cert);
    out += fmt::format("Certificate {} ({})\n", i, roleOf(cert, i, certs->size()));
    out += fmt::format("  SPIFFE ID:  {}\n", spiffe.empty() ? "(none)" : fmt::format("{}", fmt::join(spiffe, ", ")));
    if (!dns.empty()) out += fmt::format("  DNS SANs:   {}\n", fmt::join(dns, ", "));
    out += fmt::format("  Subject:    {}\n", tls::distinguishedName(X509_get_subject_name(cert)));
    out += fmt::format("  Issuer:     {}\n", tls::distinguishedName(X509_get_issuer_name(cert)));
    out += fmt::format("  Valid:      {} to {} ({})\n", formatRfc3339(tls::notBefore(cert)), formatRfc3339(tls::notAfter(cert)),
                       validityNote(cert, now));
    out += fmt::format("  Key:        {}\n", tls::describeKey(X509_get0_pubkey(cert)));
    out += fmt::format("  Serial:     {}\n", tls::serialHex(cert));
  }
  if (certs->size() > 1) {
    bool intact = true;
    out += "Chain:\n";
    for (size_t i = 0; i + 1 < certs->size(); ++i) {
      bool signedByNext = tls::isSignedBy((*certs)[i].get(), (*certs)[i + 1].get());
      intact = intact && signedByNext;
      out += fmt::format("  {} -> {}: {}\n", i, i + 1, signedByNext ? "signed by the next certificate" : "NOT signed by the next certificate");
    }
    X509* last = certs->back().get();
    bool anchored = tls::isSelfSigned(last);
    out += fmt::format("  {}: {}\n", certs->size() - 1, anchored ? "self-signed root" : "not self-signed (the root is not in this file)");
    out += fmt::format("  chain {}\n", intact ? "intact" : "BROKEN");
  }
  return out;
}

}  // namespace weft::ca
