#include "tls/spiffe_id.h"

#include "base/k8s_names.h"

namespace weft::tls {

namespace {
constexpr std::string_view kScheme = "spiffe://";
}

Status checkTrustDomain(std::string_view td) {
  if (td.empty()) return makeError("trust domain must not be empty");
  if (td.size() > 255) return makeError("trust domain \"{}\" is longer than 255 characters", td);
  for (char c : td) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (c >= 'A' && c <= 'Z') return makeError("trust domain \"{}\" must be lower case", td);
    if (!ok) return makeError("trust domain \"{}\" contains '{}'; allowed are a-z, 0-9, '.', '-' and '_'", td, c);
  }
  if (td.front() == '.' || td.back() == '.' || td.find("..") != std::string_view::npos) {
    return makeError("trust domain \"{}\" is not a DNS-like name (empty label)", td);
  }
  return {};
}

std::string SpiffeId::uri() const { return fmt::format("spiffe://{}/ns/{}/sa/{}", trustDomain, ns, serviceAccount); }

Result<SpiffeId> SpiffeId::make(std::string trustDomain, std::string ns, std::string serviceAccount) {
  WEFT_TRY(checkTrustDomain(trustDomain));
  if (auto why = checkDns1123Label(ns)) return makeError("namespace {}", *why);
  if (auto why = checkDns1123Subdomain(serviceAccount)) return makeError("service account {}", *why);
  return SpiffeId{std::move(trustDomain), std::move(ns), std::move(serviceAccount)};
}

Result<SpiffeId> SpiffeId::parse(std::string_view uri) {
  if (uri.substr(0, kScheme.size()) != kScheme) return makeError("\"{}\" is not a spiffe:// URI", uri);
  auto rest = uri.substr(kScheme.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return makeError("\"{}\" has no path; expected /ns/<namespace>/sa/<account>", uri);
  auto td = rest.substr(0, slash);
  auto path = rest.substr(slash);
  // Exactly four segments: ns, <namespace>, sa, <account>.
  constexpr std::string_view kNs = "/ns/", kSa = "/sa/";
  if (path.substr(0, kNs.size()) != kNs) return makeError("\"{}\": path must start with /ns/", uri);
  path.remove_prefix(kNs.size());
  auto saAt = path.find(kSa);
  if (saAt == std::string_view::npos) return makeError("\"{}\": path must be /ns/<namespace>/sa/<account>", uri);
  auto ns = path.substr(0, saAt);
  auto sa = path.substr(saAt + kSa.size());
  if (sa.find('/') != std::string_view::npos) return makeError("\"{}\": path has extra segments after the account", uri);
  auto id = make(std::string(td), std::string(ns), std::string(sa));
  if (!id) return id.error().wrap(fmt::format("\"{}\"", uri));
  return id;
}

}  // namespace weft::tls
