#pragma once
// Who is calling weftd, read from the client certificate the TLS handshake has already
// verified against the mesh's root: a node agent (weft://node/<name>) or a workload
// (spiffe://<trust domain>/ns/<ns>/sa/<sa>). Anything else is not a caller.

#include <string>

#include "base/result.h"
#include "tls/openssl_types.h"
#include "tls/spiffe_id.h"

namespace weft::control {

struct Caller {
  enum class Kind { kNode, kWorkload };
  Kind kind = Kind::kWorkload;
  std::string node;        // kNode
  tls::SpiffeId identity;  // kWorkload
  std::string describe() const;
};

Result<Caller> callerFromCertificate(X509* peer, std::string_view trustDomain);

}  // namespace weft::control
