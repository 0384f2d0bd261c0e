#include "control/caller.h"

#include "control/node_credential.h"
#include "tls/x509_info.h"

namespace weft::control {

std::string Caller::describe() const { return kind == Kind::kNode ? "node " + node : identity.uri(); }

Result<Caller> callerFromCertificate(X509* peer, std::string_view trustDomain) {
  if (peer == nullptr) return makeError("no client certificate");
  auto uris = tls::uriSans(peer);
  if (uris.size() != 1) return makeError("the client certificate has {} URI SANs; exactly one is required", uris.size());
  const std::string& uri = uris[0];
  if (uri.starts_with(kNodeUriPrefix)) {
    Caller caller{Caller::Kind::kNode, uri.substr(kNodeUriPrefix.size()), {}};
    if (caller.node.empty()) return makeError("the node credential names no node");
    return caller;
  }
  auto identity = tls::SpiffeId::parse(uri);
  if (!identity) return identity.error().wrap("client certificate");
  if (identity->trustDomain != trustDomain) {
    return makeError("client identity {} is not in trust domain {}", uri, trustDomain);
  }
  return Caller{Caller::Kind::kWorkload, {}, std::move(*identity)};
}

}  // namespace weft::control
